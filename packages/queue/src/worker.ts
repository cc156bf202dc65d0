import type { Config } from '@vad/config';
import { type WorkerOptions as BullWorkerOptions, type Job, MetricsTime, Worker } from 'bullmq';
import type { QueueName } from './names.js';
import type { JobData } from './payloads.js';
import type { QueueConnection } from './queue-connection.js';

export type VadProcessor<Q extends QueueName> = (
  job: Job<JobData[Q], unknown, Q>,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<unknown>;

export interface WorkerOptions {
  concurrency: number;
  /** How long a job's lock lasts without renewal; renewed every half of it. */
  lockDurationMs?: number;
}

/**
 * The settings every vad worker shares: the hash-tagged prefix, locks
 * renewed at half their duration, a week of throughput metrics (read by the
 * queue-health view), and no autorun so the caller attaches handlers first.
 */
export function workerSettings(
  config: Pick<Config, 'queue'>,
  connection: QueueConnection,
  options: WorkerOptions,
): BullWorkerOptions {
  const lockDuration = options.lockDurationMs ?? config.queue.lockDurationMs;
  return {
    ...connection.bull.options,
    concurrency: options.concurrency,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: config.queue.maxStalled,
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    autorun: false,
  };
}

/** A BullMQ worker for one of vad's stage queues, with the shared settings. */
export function createWorker<Q extends QueueName>(
  queue: Q,
  processor: VadProcessor<Q>,
  config: Pick<Config, 'queue'>,
  connection: QueueConnection,
  options: WorkerOptions,
): Worker<JobData[Q], unknown, Q> {
  return new Worker<JobData[Q], unknown, Q>(
    queue,
    processor,
    workerSettings(config, connection, options),
    connection.bull.factory,
  );
}
