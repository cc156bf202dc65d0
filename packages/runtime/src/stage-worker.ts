import type { Config, Logger } from '@vad/config';
import { createWorker, type QueueName } from '@vad/queue';
import { processingGate } from '@vad/schedule';
import { createJobProcessor, type JobHandler } from '@vad/stages';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type DatabaseWatch, logRedisState } from './outage-watch.js';

export interface StageWorkerOptions {
  config: Config;
  connection: Redis;
  logger: Logger;
  concurrency: number;
  /** Pauses the worker while the database is unreachable; its jobs wait without spending attempts. */
  databaseWatch: DatabaseWatch;
}

/**
 * A stage's handler on its queue: payloads checked, the processing window
 * applied, errors logged, started. The caller closes it.
 */
export function startStageWorker<Q extends QueueName, R>(
  handler: JobHandler<Q, R>,
  { config, connection, logger, concurrency, databaseWatch }: StageWorkerOptions,
): Worker {
  const processor = createJobProcessor(handler, logger, { gate: processingGate(config), outage: databaseWatch });
  const worker = createWorker(handler.queue, processor, config, connection, { concurrency });
  databaseWatch.watch(worker);
  worker.on('error', logRedisState(connection, logger, `${handler.queue} worker`));
  void worker.run();
  return worker as unknown as Worker;
}
