import { videoProgress } from '@vad/operations';
import { processingWindow } from '@vad/schedule';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatBytes, formatClockTime, formatDuration, table } from '../format.js';
import { requireVideo } from '../require-video.js';

export function registerStatus(program: Command, context: () => CliContext): void {
  program
    .command('status')
    .description("show a video's processing state, metadata and progress")
    .argument('<id>', 'video id (as printed by submit)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const ctx = context();
      const video = await requireVideo(program, ctx, id);

      const progress = await videoProgress(ctx.queues, video);
      if (options.json) {
        process.stdout.write(`${ctx.json({ video, progress })}\n`);
        return;
      }
      const window = processingWindow(ctx.config);
      const { held } = progress;
      const waitsForWindow =
        !held &&
        !video.urgent &&
        window &&
        !window.isOpen(new Date()) &&
        ['queued', 'ingesting', 'embedding', 'aggregating'].includes(video.status);
      const queueing = [
        video.urgent ? 'urgent (runs outside the processing window too)' : `priority ${video.priority ?? '-'}`,
        held ? `held until ${formatClockTime(held.until, ctx.display)} by the processing window ${held.window}` : '',
        waitsForWindow
          ? `waits for the processing window ${window}, opens ${formatClockTime(window.next(new Date()).opensAt, ctx.display)}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
      const ingestState =
        held && progress.ingest.state === 'delayed'
          ? `held until ${formatClockTime(held.until, ctx.display)}`
          : progress.ingest.state;
      const rows: string[][] = [
        ['id', video.id],
        ['status', video.status + (video.error ? ` — ${video.error}` : '')],
        ['source', video.sourceUri],
        ['size', formatBytes(video.bytes)],
        ['duration', formatDuration(video.durationMs)],
        [
          'video',
          video.width ? `${video.width}x${video.height} ${video.codec ?? ''} ${video.fps?.toFixed(2) ?? '?'} fps` : '-',
        ],
        ['recorded at', ctx.time(video.recordedAt)],
        ['model', video.model],
        ['queue', queueing],
        [
          'ingest',
          `${ingestState} (${progress.ingest.percent}%)${progress.ingest.waiting ? ` — ${progress.ingest.waiting}` : ''}`,
        ],
        ['frames decoded', String(video.framesDecoded)],
        ['segments', `${video.segmentsWritten} written, ${progress.embed.segmentsEmbedded} embedded`],
        ['scoring', `${progress.aggregate.state} (${progress.aggregate.percent}%)`],
        ['submitted', ctx.time(video.createdAt)],
      ];
      process.stdout.write(`${table(rows)}\n`);
    });
}
