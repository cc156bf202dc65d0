import type { Video } from '@vad/db';
import { jobIds, type Queues } from '@vad/queue';

export interface VideoProgress {
  ingest: { state: string; percent: number; framesDecoded: number; segmentsWritten: number; waiting?: string };
  embed: { segmentsEmbedded: number; segmentsWritten: number; percent: number };
  aggregate: { state: string; percent: number };
}

const asPercent = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * A video's progress through each stage, from its BullMQ flow: the ingest
 * job's reported progress, the aggregate parent's finished children (the
 * ingest job and one embed job per segment) and its own state.
 */
export async function videoProgress(queues: Queues, video: Video): Promise<VideoProgress> {
  const [ingestJob, ingestState, aggregateJob, aggregateState] = await Promise.all([
    queues.ingest.getJob(jobIds.ingest(video.id)),
    queues.ingest.getJobState(jobIds.ingest(video.id)),
    queues.aggregate.getJob(jobIds.aggregate(video.id)),
    queues.aggregate.getJobState(jobIds.aggregate(video.id)),
  ]);
  const finished = video.status === 'done';
  const dependencies = aggregateJob ? await aggregateJob.getDependenciesCount() : undefined;
  const ingestDone = finished || ingestState === 'completed' || ['embedding', 'aggregating'].includes(video.status);
  const processed = dependencies?.processed ?? 0;
  const segmentsEmbedded = finished
    ? video.segmentsWritten
    : Math.min(video.segmentsWritten, Math.max(0, processed - (ingestState === 'completed' ? 1 : 0)));
  const ingestProgress = typeof ingestJob?.progress === 'object' ? (ingestJob.progress as Record<string, unknown>) : {};
  const aggregateProgress =
    typeof aggregateJob?.progress === 'object' ? (aggregateJob.progress as Record<string, unknown>) : {};
  return {
    ingest: {
      state: finished ? 'completed' : ingestState,
      percent: ingestDone ? 100 : (asPercent(ingestProgress.percent) ?? 0),
      framesDecoded: video.framesDecoded,
      segmentsWritten: video.segmentsWritten,
      // Why decoding is paused (e.g. the storage is full), while it is.
      ...(!ingestDone && typeof ingestProgress.waiting === 'string' ? { waiting: ingestProgress.waiting } : {}),
    },
    embed: {
      segmentsEmbedded,
      segmentsWritten: video.segmentsWritten,
      percent:
        finished || (ingestDone && segmentsEmbedded === video.segmentsWritten && video.segmentsWritten > 0)
          ? 100
          : video.segmentsWritten
            ? Math.floor((100 * segmentsEmbedded) / Math.max(video.segmentsWritten, 1))
            : 0,
    },
    aggregate: {
      state: finished ? 'completed' : aggregateState,
      percent: finished ? 100 : (asPercent(aggregateProgress.percent) ?? 0),
    },
  };
}
