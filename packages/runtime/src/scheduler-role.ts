import type { Config, Logger } from '@vad/config';
import { RetentionService } from '@vad/operations';
import {
  createMaintenanceQueue,
  createMaintenanceWorker,
  createQueues,
  type RunningWorker,
  scheduleRetention,
  UnrecoverableError,
} from '@vad/queue';
import { SegmentStore, ThumbnailStore } from '@vad/storage';
import { openRoleResources } from './role-resources.js';

/**
 * The scheduler role: keeps the daily retention job scheduled (BullMQ job
 * scheduler, VAD_RETENTION_AT in VAD_TIMEZONE) and runs it. Safe to run on
 * several machines: the schedule is kept in Redis and each run is one job.
 * (The processing window needs no process: every worker applies it.)
 */
export async function startScheduler(config: Config, logger: Logger): Promise<RunningWorker> {
  const resources = openRoleResources(config, 'scheduler', 2);
  const { repos, connection } = resources;
  const queues = createQueues(config, connection);
  const maintenance = createMaintenanceQueue(config, connection);
  const closeQueues = async () => {
    await maintenance.close();
    await queues.close();
    await resources.close();
  };
  try {
    await scheduleRetention(maintenance, config.retention.at, config.schedule.timeZone);
  } catch (error) {
    await closeQueues().catch(() => {});
    throw error;
  }
  const retention = new RetentionService({
    config,
    repos,
    queues,
    thumbnails: new ThumbnailStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    logger,
  });
  const worker = createMaintenanceWorker(
    async (job) => {
      if (job.name === 'retention') return retention.run();
      throw new UnrecoverableError(`no handler for maintenance job "${job.name}"`);
    },
    config,
    connection,
  );
  worker.on('error', (error) => logger.error({ err: error }, 'scheduler worker error'));
  worker.on('failed', (job, error) => logger.error({ jobId: job?.id, err: error }, 'maintenance job failed'));
  void worker.run();
  logger.info(
    { retentionAt: `${config.retention.at} ${config.schedule.timeZone}`, window: config.schedule.window ?? 'always' },
    'scheduler started',
  );
  return {
    async close() {
      await worker.close();
      await closeQueues();
      logger.info('scheduler stopped');
    },
  };
}
