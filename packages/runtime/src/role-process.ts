import { ModelNotInstalledError } from '@vad/clip';
import { createLogger, loadConfigOrExit } from '@vad/config';
import { EmbeddedPostgresError } from '@vad/embedded';
import { stopOnSignals } from '@vad/queue';
import { type RoleName, startRoles } from './roles.js';
import { startWithServices } from './services.js';

/**
 * The whole entry point of a worker process: load the configuration (exit 78
 * if it is wrong), resolve its services (waiting for them; see
 * resolveServices), start the roles, stop cleanly on SIGTERM/SIGINT. A model
 * that is not installed exits 78 with the command that installs it; an
 * embedded server that cannot start exits 1 with its one-line reason; any
 * other start failure is logged and exits 1.
 */
export function runRoleProcess(roles: readonly RoleName[], name: string): void {
  const config = loadConfigOrExit();
  const logger = createLogger(config, name);
  startWithServices(config, logger, (resolved) => startRoles(roles, resolved, logger)).then(
    (running) => stopOnSignals(running, logger),
    (error: unknown) => {
      if (error instanceof ModelNotInstalledError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(78);
      }
      if (error instanceof EmbeddedPostgresError) {
        process.stderr.write(`vad: ${error.message}\n`);
        process.exit(1);
      }
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
