import type { Logger } from '@vad/config';
import { stopOnSignals } from '@vad/queue';
import type { CliContext } from './context.js';

/**
 * For commands that run until stopped (api, workers, watch): on SIGTERM or
 * Ctrl-C, `close` what the command started, then the CLI's own connections,
 * and exit. Never resolves.
 */
export function runUntilSignal(ctx: CliContext, logger: Logger, close: () => Promise<void>): Promise<never> {
  stopOnSignals(
    {
      close: async () => {
        await close();
        await ctx.close();
      },
    },
    logger,
  );
  return new Promise<never>(() => {});
}
