import { startAggregateWorker } from '@vad/aggregate-worker';
import { startEmbedWorker } from '@vad/embed-worker';
import { startIngestWorker } from '@vad/ingest-worker';
import type { RunningWorker } from '@vad/queue';
import { startScheduler } from '@vad/scheduler';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { runUntilSignal } from '../run-until-signal.js';

const ROLES = ['ingest', 'embed', 'aggregate', 'scheduler'] as const;

export function registerWorkers(program: Command, context: () => CliContext): void {
  program
    .command('workers')
    .description('run worker roles in this process (all of them for a single machine); stops cleanly on SIGTERM/Ctrl-C')
    .option('--role <role>', 'ingest | embed | aggregate | scheduler (retention) | all', 'all')
    .action(async (options: { role: string }) => {
      const roles = options.role === 'all' ? [...ROLES] : [options.role];
      for (const role of roles) {
        if (!ROLES.includes(role as (typeof ROLES)[number])) {
          program.error(`error: --role must be one of ${ROLES.join(', ')} or all, got "${role}"`, { exitCode: 2 });
        }
      }
      const ctx = context();
      const logger = ctx.logger.child({}, { level: ctx.config.log.level });
      const started: RunningWorker[] = [];
      if (roles.includes('ingest')) started.push(startIngestWorker(ctx.config, logger.child({ role: 'ingest' })));
      if (roles.includes('embed')) started.push(await startEmbedWorker(ctx.config, logger.child({ role: 'embed' })));
      if (roles.includes('aggregate'))
        started.push(startAggregateWorker(ctx.config, logger.child({ role: 'aggregate' })));
      if (roles.includes('scheduler'))
        started.push(await startScheduler(ctx.config, logger.child({ role: 'scheduler' })));
      process.stderr.write(`vad workers running: ${roles.join(', ')} (Ctrl-C to stop)\n`);
      await runUntilSignal(ctx, logger, async () => {
        for (const worker of started.reverse()) await worker.close();
      });
    });
}
