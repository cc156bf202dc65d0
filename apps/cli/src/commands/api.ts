import { startApi } from '@vad/http';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { runUntilSignal } from '../run-until-signal.js';

export function registerApi(program: Command, context: () => CliContext): void {
  program
    .command('api')
    .description(
      'run the HTTP API (VAD_API_HOST:VAD_API_PORT); migrates the database first; stops cleanly on SIGTERM/Ctrl-C',
    )
    .action(async () => {
      const ctx = context();
      const logger = ctx.logger.child({}, { level: ctx.config.log.level });
      const api = await startApi(ctx.config, logger);
      process.stderr.write(
        `vad api listening on ${api.url} (docs ${api.url}/docs, Bull Board ${api.url}/admin/queues)\n`,
      );
      await runUntilSignal(ctx, logger, () => api.close());
    });
}
