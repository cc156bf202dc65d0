import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories } from '@vad/db';
import { RetentionService } from '@vad/pipeline';
import {
  createMaintenanceQueue,
  createQueues,
  createRedisConnection,
  MAINTENANCE_QUEUE,
  type RunningWorker,
  scheduleRetention,
} from '@vad/queue';
import { SegmentStore, ThumbnailStore } from '@vad/storage';
import { Worker } from 'bullmq';

/**
 * The scheduler role: keeps the daily retention job scheduled (BullMQ job
 * scheduler, VAD_RETENTION_AT in VAD_TIMEZONE) and runs it. Safe to run on
 * several machines: the schedule is kept in Redis and each run is one job.
 * (The processing window needs no process: every worker applies it.)
 */
export async function startScheduler(config: Config, logger: Logger): Promise<RunningWorker> {
  const database = createDatabase(config.database.url, { max: 2, applicationName: 'vad-scheduler' });
  const repos = createRepositories(database.db);
  const connection = createRedisConnection(config.redis.url, 'worker');
  const queues = createQueues(config, connection);
  const maintenance = createMaintenanceQueue(config, connection);
  await scheduleRetention(maintenance, config.retention.at, config.schedule.timeZone);
  const retention = new RetentionService({
    config,
    repos,
    queues,
    thumbnails: new ThumbnailStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    logger,
  });
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job) => (job.name === 'retention' ? retention.run() : undefined),
    {
      connection,
      prefix: config.queue.prefix,
      concurrency: 1,
      lockDuration: 10 * 60_000,
    },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'scheduler worker error'));
  worker.on('failed', (job, error) => logger.error({ jobId: job?.id, err: error }, 'maintenance job failed'));
  logger.info(
    { retentionAt: `${config.retention.at} ${config.schedule.timeZone}`, window: config.schedule.window ?? 'always' },
    'scheduler started',
  );
  return {
    async close() {
      await worker.close();
      await maintenance.close();
      await queues.close();
      connection.disconnect();
      await database.close();
      logger.info('scheduler stopped');
    },
  };
}
