import type { Config } from '@vad/config';
import { type DefaultJobOptions, FlowProducer, type JobsOptions, Queue } from 'bullmq';
import { jobIds, QUEUE_NAMES, type QueueName } from './names.js';
import type { EmbedJobData, JobData } from './payloads.js';
import type { QueueConnection } from './queue-connection.js';

export type VadQueue<Q extends QueueName> = Queue<JobData[Q], unknown, Q>;

export interface Queues {
  ingest: VadQueue<'ingest'>;
  embed: VadQueue<'embed'>;
  aggregate: VadQueue<'aggregate'>;
  flows: FlowProducer;
  prefix: string;
  /** The connection the queues share, for reads BullMQ has no method for (delayed jobs' release times). */
  connection: QueueConnection;
  close(): Promise<void>;
}

/** Retries with exponential backoff; completed jobs trimmed, failed jobs kept for inspection. */
export function defaultJobOptions(config: Pick<Config, 'queue'>): DefaultJobOptions {
  return {
    attempts: config.queue.attempts,
    backoff: { type: 'exponential', delay: config.queue.backoffMs },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/**
 * The stage queues and the flow producer on one connection. Connection
 * errors are handed to `onError` (the calls that meet them reject anyway):
 * an 'error' event nobody listens to would crash the process.
 */
export function createQueues(
  config: Pick<Config, 'queue'>,
  connection: QueueConnection,
  onError: (error: Error) => void = () => {},
): Queues {
  const { options: base, factory } = connection.bull;
  const options = { ...base, defaultJobOptions: defaultJobOptions(config) };
  const [ingest, embed, aggregate] = QUEUE_NAMES.map((name) =>
    new Queue(name, options, factory).on('error', onError),
  ) as [VadQueue<'ingest'>, VadQueue<'embed'>, VadQueue<'aggregate'>];
  const flows = new FlowProducer(base, factory);
  flows.on('error', onError);
  return {
    ingest,
    embed,
    aggregate,
    flows,
    prefix: config.queue.prefix,
    connection,
    async close() {
      await Promise.all([ingest.close(), embed.close(), aggregate.close(), flows.close()]);
    },
  };
}

export interface VideoFlowOptions {
  /** BullMQ priority: 1 is the most urgent; unset = normal. */
  priority?: number | undefined;
  /** Run at once, outside the processing window too. */
  urgent?: boolean | undefined;
}

/**
 * The video's flow: the aggregate job is the parent, waiting on its children.
 * Ingest is the first child; ingest adds one embed child per segment while it
 * decodes. The parent runs only when ingest and every embed job have
 * completed, and this holds across worker and Redis restarts because it is
 * BullMQ's own dependency tracking. A child that fails for good fails the
 * parent. Re-adding an existing flow is a no-op (deterministic ids).
 */
export async function addVideoFlow(
  queues: Queues,
  config: Pick<Config, 'queue'>,
  videoId: string,
  options: VideoFlowOptions = {},
): Promise<void> {
  const defaults = defaultJobOptions(config);
  const priority = options.priority ? { priority: options.priority } : {};
  const data = options.urgent ? { videoId, urgent: true } : { videoId };
  await queues.flows.add({
    name: 'aggregate',
    queueName: 'aggregate',
    data,
    opts: { ...defaults, ...priority, jobId: jobIds.aggregate(videoId) },
    children: [
      {
        name: 'ingest',
        queueName: 'ingest',
        data,
        opts: { ...defaults, ...priority, jobId: jobIds.ingest(videoId), failParentOnFailure: true },
      },
    ],
  });
}

/** Adds a segment's embed job as a child of the video's aggregate job. No-op when it exists. */
export async function addEmbedJob(queues: Queues, data: EmbedJobData, options: Pick<JobsOptions, 'priority'> = {}) {
  return queues.embed.add('embed', data, {
    ...options,
    jobId: jobIds.embed(data.videoId, data.segmentIndex),
    parent: { id: jobIds.aggregate(data.videoId), queue: queues.aggregate.qualifiedName },
    failParentOnFailure: true,
  });
}

/**
 * Removes a video's flow whole (the aggregate job and its children); false
 * when BullMQ refuses because a job of it is locked (running). Redis answers
 * 1 for a removal, PostgreSQL the number of jobs removed.
 */
export async function removeVideoFlow(queues: Pick<Queues, 'aggregate'>, videoId: string): Promise<boolean> {
  return (await queues.aggregate.remove(jobIds.aggregate(videoId), { removeChildren: true })) >= 1;
}

/**
 * The frames of a segment whose embed job is queued (in any state, completed
 * included): its job's frame count; undefined when no such job is known.
 */
export async function queuedSegmentFrames(
  queues: Pick<Queues, 'embed'>,
  videoId: string,
  segmentIndex: number,
): Promise<number | undefined> {
  const job = await queues.embed.getJob(jobIds.embed(videoId, segmentIndex));
  return job?.data.frameCount;
}

/** Whether a job with this id is known to the queue (in any state). */
export async function jobExists(queue: Queue, jobId: string): Promise<boolean> {
  return (await queue.getJobState(jobId)) !== 'unknown';
}
