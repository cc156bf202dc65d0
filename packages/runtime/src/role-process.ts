import { ModelNotInstalledError } from '@vad/clip';
import { createLogger, loadConfigOrExit } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import { type RoleName, startRoles } from './roles.js';

/**
 * The whole entry point of a worker process: load the configuration (exit 78
 * if it is wrong), start the roles, stop cleanly on SIGTERM/SIGINT. A model
 * that is not installed exits 78 with the command that installs it; any
 * other start failure is logged and exits 1.
 */
export function runRoleProcess(roles: readonly RoleName[], name: string): void {
  const config = loadConfigOrExit();
  const logger = createLogger(config, name);
  startRoles(roles, config, logger).then(
    (running) => stopOnSignals(running, logger),
    (error: unknown) => {
      if (error instanceof ModelNotInstalledError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(78);
      }
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
