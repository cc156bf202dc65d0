import type { Config, Logger } from '@vad/config';
import { retimeHeldJobs } from '@vad/operations';
import type { QueueConnection } from '@vad/queue';
import { createQueues, createWorker, type QueueName } from '@vad/queue';
import { processingGate } from '@vad/schedule';
import { createJobProcessor, type JobHandler } from '@vad/stages';
import type { Worker } from 'bullmq';
import { type DatabaseWatch, logQueueState } from './outage-watch.js';

/** What tests change in every stage role. */
export interface RoleOptions {
  /** The clock the processing window is read on (tests move it across the window's edges). */
  clock?: () => number;
}

export interface StageWorkerOptions extends RoleOptions {
  config: Config;
  connection: QueueConnection;
  logger: Logger;
  concurrency: number;
  /** Pauses the worker while the database is unreachable; its jobs wait without spending attempts. */
  databaseWatch: DatabaseWatch;
}

/**
 * A stage's handler on its queue: payloads checked, the processing window
 * applied, errors logged, started. Jobs of its queue held by a processing
 * window are re-timed to this worker's window first (see `retimeHeldJobs`).
 * The caller closes it.
 */
export function startStageWorker<Q extends QueueName, R>(
  handler: JobHandler<Q, R>,
  { config, connection, logger, concurrency, databaseWatch, clock }: StageWorkerOptions,
): Worker {
  const gate = processingGate(config, clock);
  const processor = createJobProcessor(handler, logger, { gate, outage: databaseWatch });
  const worker = createWorker(handler.queue, processor, config, connection, { concurrency });
  databaseWatch.watch(worker);
  worker.on('error', logQueueState(connection, logger, `${handler.queue} worker`));
  const queues = createQueues(config, connection);
  void retimeHeldJobs(queues, handler.queue, gate, logger)
    .catch((error: unknown) => logger.warn({ err: error, queue: handler.queue }, 'could not re-time held jobs'))
    .finally(() => queues.close());
  void worker.run();
  return worker as unknown as Worker;
}
