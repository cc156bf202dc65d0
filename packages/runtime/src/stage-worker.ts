import type { Config, Logger } from '@vad/config';
import { createWorker, type QueueName } from '@vad/queue';
import { processingGate } from '@vad/schedule';
import { createJobProcessor, type JobHandler } from '@vad/stages';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';

export interface StageWorkerOptions {
  config: Config;
  connection: Redis;
  logger: Logger;
  concurrency: number;
}

/**
 * A stage's handler on its queue: payloads checked, the processing window
 * applied, errors logged, started. The caller closes it.
 */
export function startStageWorker<Q extends QueueName, R>(
  handler: JobHandler<Q, R>,
  { config, connection, logger, concurrency }: StageWorkerOptions,
): Worker {
  const processor = createJobProcessor(handler, logger, { gate: processingGate(config) });
  const worker = createWorker(handler.queue, processor, config, connection, { concurrency });
  worker.on('error', (error) => logger.error({ err: error }, `${handler.queue} worker error`));
  void worker.run();
  return worker as unknown as Worker;
}
