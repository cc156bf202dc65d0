import { jobIds } from '@vad/queue';
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

      const [ingestState, ingestJob, aggregateJob] = await Promise.all([
        ctx.queues.ingest.getJobState(jobIds.ingest(id)),
        ctx.queues.ingest.getJob(jobIds.ingest(id)),
        ctx.queues.aggregate.getJob(jobIds.aggregate(id)),
      ]);
      const dependencies = aggregateJob ? await aggregateJob.getDependenciesCount() : undefined;
      // The aggregate job's children are the ingest job and one embed job per segment.
      const embedded = Math.max(0, (dependencies?.processed ?? 0) - (ingestState === 'completed' ? 1 : 0));
      const progress = typeof ingestJob?.progress === 'object' ? (ingestJob.progress as Record<string, number>) : {};

      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ video, queue: { ingest: ingestState, ingestProgress: progress, segmentsEmbedded: embedded } }, null, 2)}\n`,
        );
        return;
      }
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
        ['ingest', `${ingestState}${progress.percent !== undefined ? ` (${progress.percent}%)` : ''}`],
        ['frames decoded', String(video.framesDecoded)],
        ['segments', `${video.segmentsWritten} written, ${embedded} embedded`],
        ['submitted', video.createdAt.toISOString()],
      ];
      process.stdout.write(`${table(rows)}\n`);
    });
}
