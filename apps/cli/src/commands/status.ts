import { videoProgress } from '@vad/operations';
import { processingWindow } from '@vad/schedule';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatBytes, formatDuration, table } from '../format.js';
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
        process.stdout.write(`${JSON.stringify({ video, progress }, null, 2)}\n`);
        return;
      }
      const window = processingWindow(ctx.config);
      const waitsForWindow =
        !video.urgent &&
        window &&
        !window.isOpen(new Date()) &&
        ['queued', 'ingesting', 'embedding', 'aggregating'].includes(video.status);
      const queueing = [
        video.urgent ? 'urgent (runs outside the processing window too)' : `priority ${video.priority ?? '-'}`,
        waitsForWindow
          ? `waits for the processing window ${window}, opens ${window.next(new Date()).opensAt.toISOString()}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
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
        ['recorded at', video.recordedAt?.toISOString() ?? '-'],
        ['model', video.model],
        ['queue', queueing],
        [
          'ingest',
          `${progress.ingest.state} (${progress.ingest.percent}%)${progress.ingest.waiting ? ` — ${progress.ingest.waiting}` : ''}`,
        ],
        ['frames decoded', String(video.framesDecoded)],
        ['segments', `${video.segmentsWritten} written, ${progress.embed.segmentsEmbedded} embedded`],
        ['scoring', `${progress.aggregate.state} (${progress.aggregate.percent}%)`],
        ['submitted', video.createdAt.toISOString()],
      ];
      process.stdout.write(`${table(rows)}\n`);
    });
}
