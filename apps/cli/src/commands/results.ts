import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatDuration, table } from '../format.js';
import { requireVideo } from '../require-video.js';
import { sparkline } from '../sparkline.js';

const clock = (ms: number) => formatDuration(ms).replace(/^0m/, '');

export function registerResults(program: Command, context: () => CliContext): void {
  program
    .command('results')
    .description("a video's anomaly timeline (latest scoring run) and its events")
    .argument('<id>', 'video id')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const ctx = context();
      const video = await requireVideo(program, ctx, id);
      const run = await ctx.repos.scoring.latestRun(id);
      if (!run) {
        if (video.status === 'failed') {
          process.stderr.write(`video ${id} failed: ${video.error ?? 'no reason recorded'}\n`);
          process.exitCode = 1;
        } else {
          process.stdout.write(`video ${id} is ${video.status}; no scores yet\n`);
        }
        return;
      }
      const [clips, events] = await Promise.all([
        ctx.repos.scoring.clipsOf(run.id),
        ctx.repos.scoring.eventsOf(run.id),
      ]);
      if (options.json) {
        process.stdout.write(`${ctx.json({ video, run, clips, events })}\n`);
        return;
      }
      const params = run.params as { threshold?: number; mode?: string; head?: { name?: string; sha256?: string } };
      const threshold = Number(params.threshold ?? 0.5);
      // How the scores were made: the mode, and for a learned head which one (name and sha256 prefix).
      const mode = params.mode ?? 'prompts';
      const scoredBy =
        mode === 'learned' && params.head
          ? `learned head ${params.head.name ?? '?'} (${params.head.sha256?.slice(0, 12) ?? '?'})`
          : `${mode}, prompts ${run.promptSet}, ${run.aggregator}`;
      process.stdout.write(
        `${video.sourceUri}\n${formatDuration(video.durationMs)}, recorded ${ctx.time(video.recordedAt, 'at an unknown time')}, model ${run.model}, ${scoredBy}, threshold ${threshold}\n\n`,
      );
      process.stdout.write(`anomaly  ${sparkline(clips.map((c) => c.anomalyScore))}\n`);
      process.stdout.write(
        `         0${' '.repeat(Math.max(1, Math.min(80, clips.length) - 1 - clock(video.durationMs ?? 0).length))}${clock(video.durationMs ?? 0)}\n\n`,
      );
      if (events.length === 0) {
        process.stdout.write(`no events (threshold ${threshold})\n`);
        return;
      }
      const rows = [['#', 'from', 'to', 'peak', 'score', 'label', 'absolute start', 'thumbnail', 'caption']];
      for (const [i, e] of events.entries()) {
        rows.push([
          String(i + 1),
          clock(e.startMs),
          clock(e.endMs),
          clock(e.peakMs),
          e.peakScore.toFixed(2),
          e.label,
          ctx.time(e.startAt),
          e.thumbnailPath ?? '-',
          e.caption ?? '-',
        ]);
      }
      process.stdout.write(`${table(rows)}\n`);
    });
}
