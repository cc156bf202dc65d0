import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

export function registerDoctor(program: Command, context: () => CliContext): void {
  program
    .command('doctor')
    .description(
      'find videos that are not finished but have no live job in any queue (stranded by a crash or an outage) ' +
        'and say what the reconciler does about each; --fix does it now (the scheduler role does it every VAD_RECONCILE_EVERY_S)',
    )
    .option('--fix', 'requeue, restore or fail them now, as the reconciler would')
    .option('--json', 'print JSON')
    .action(async (options: { fix?: boolean; json?: boolean }) => {
      const ctx = context();
      const report = await ctx.reconciler.run({ dryRun: !options.fix });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const verb = options.fix ? 'done' : 'would do';
      process.stdout.write(
        `${report.checked} unfinished videos unchanged for a while, ${report.live} with a live job, ${report.actions.length} stranded\n`,
      );
      if (!report.actions.length) return;
      const rows = [['video', 'status', `${verb}`, 'why']];
      for (const a of report.actions) rows.push([a.videoId, a.status, a.action, a.reason]);
      process.stdout.write(`${table(rows)}\n`);
      if (!options.fix) process.stdout.write('run vad doctor --fix to act now\n');
    });
}
