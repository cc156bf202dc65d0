import { isRoleName, ROLES, type RoleName, startRoles } from '@vad/runtime';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { runUntilSignal } from '../run-until-signal.js';

export function registerWorkers(program: Command, context: () => CliContext): void {
  program
    .command('workers')
    .description('run worker roles in this process (all of them for a single machine); stops cleanly on SIGTERM/Ctrl-C')
    .option('--role <roles>', `${ROLES.join(' | ')} (retention) | all; several separated by commas`, 'all')
    .action(async (options: { role: string }) => {
      const names = options.role === 'all' ? [...ROLES] : options.role.split(',').map((r) => r.trim());
      const roles: RoleName[] = [];
      for (const name of names) {
        if (!isRoleName(name)) {
          program.error(`error: --role must be one of ${ROLES.join(', ')} or all, got "${name}"`, { exitCode: 2 });
        }
        roles.push(name);
      }
      const ctx = context();
      const logger = ctx.logger.child({}, { level: ctx.config.log.level });
      const running = await startRoles(roles, ctx.config, logger);
      process.stderr.write(`vad workers running: ${roles.join(', ')} (Ctrl-C to stop)\n`);
      await runUntilSignal(ctx, logger, () => running.close());
    });
}
