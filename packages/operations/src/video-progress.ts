import type { Video } from '@vad/db';
import { holdMarkOf, jobIds, type Queues } from '@vad/queue';
import type { Job } from 'bullmq';

export interface VideoProgress {
  ingest: { state: string; percent: number; framesDecoded: number; segmentsWritten: number; waiting?: string };
  embed: { segmentsEmbedded: number; segmentsWritten: number; percent: number };
  aggregate: { state: string; percent: number };
  /** Set while the video's next job is held by the processing window: until when, and by which window. */
  held?: { until: Date; window: string };
}

/** Embed jobs looked at for a hold: the next ones the video waits for. */
const EMBEDS_CHECKED = 20;

/** When a held job of the video is released: its ingest job, its next embed jobs or its aggregate job. */
async function heldUntil(
  queues: Queues,
  jobs: { ingest?: Job | undefined; aggregate?: Job | undefined },
  states: { ingest: string; aggregate: string },
): Promise<VideoProgress['held']> {
  const { ingest, aggregate } = jobs;
  const held = async (job: Job | undefined, queue: Queues['ingest' | 'embed' | 'aggregate']) => {
    const mark = job?.id ? holdMarkOf(job.progress) : undefined;
    const until = mark && job?.id ? await queues.connection.releaseTime(queue, job.id) : undefined;
    return mark && until ? { until, window: mark.heldBy } : undefined;
  };
  if (states.ingest === 'delayed') return held(ingest, queues.ingest);
  if (states.aggregate === 'delayed') return held(aggregate, queues.aggregate);
  if (states.aggregate !== 'waiting-children' || !aggregate) return undefined;
  const { unprocessed = [] } = await aggregate.getDependencies({ unprocessed: { count: EMBEDS_CHECKED } });
  for (const key of unprocessed) {
    const [queue, id] = key.split(':').slice(-2);
    if (queue !== 'embed' || !id) continue;
    const found = await held(await queues.embed.getJob(id), queues.embed);
    if (found) return found;
  }
  return undefined;
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
  const held = finished
    ? undefined
    : await heldUntil(
        queues,
        { ingest: ingestJob, aggregate: aggregateJob },
        { ingest: ingestState, aggregate: aggregateState },
      );
  return {
    ...(held ? { held } : {}),
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
