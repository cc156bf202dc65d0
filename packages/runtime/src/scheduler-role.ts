import type { Config, Logger } from '@vad/config';
import { isDatabaseUnavailable } from '@vad/db';
import { Reconciler, RetentionService } from '@vad/operations';
import {
  createMaintenanceQueue,
  createMaintenanceWorker,
  createQueues,
  type MaintenanceJobName,
  type RunningWorker,
  scheduleReconcile,
  scheduleRetention,
  scheduleSearchIndex,
  UnrecoverableError,
} from '@vad/queue';
import { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
import { logQueueState } from './outage-watch.js';
import { openRoleResources } from './role-resources.js';
import { createSearchIndexService } from './search-context.js';

/**
 * The scheduler role: keeps the daily retention job scheduled (BullMQ job
 * scheduler, VAD_RETENTION_AT in VAD_TIMEZONE), the reconciler and the
 * hourly search index update (VAD_SEARCH_INDEX=auto), and runs them. Safe to run on
 * several machines: the schedule is kept in Redis and each run is one job.
 * (The processing window needs no process: every worker applies it.)
 */
export async function startScheduler(config: Config, logger: Logger): Promise<RunningWorker> {
  const resources = openRoleResources(config, 'scheduler', 2, logger);
  const { repos, connection } = resources;
  const queues = createQueues(config, connection);
  const maintenance = createMaintenanceQueue(connection);
  const closeQueues = async () => {
    await maintenance.close();
    await queues.close();
    await resources.close();
  };
  try {
    await scheduleRetention(maintenance, config.retention.at, config.schedule.timeZone);
    await scheduleReconcile(maintenance, config.reconcile.everyS);
    await scheduleSearchIndex(maintenance, config.search.index === 'auto');
  } catch (error) {
    await closeQueues().catch(() => {});
    throw error;
  }
  const retention = new RetentionService({
    config,
    repos,
    queues,
    thumbnails: new ThumbnailStore(config.storage.root),
    clips: new EventClipStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    logger,
  });
  const reconciler = new Reconciler({ config, repos, queues, logger });
  const searchIndexes = createSearchIndexService(config, repos);
  // One handler per job name, checked here: a maintenance job nobody handles fails at once.
  const handlers: Record<MaintenanceJobName, () => Promise<unknown>> = {
    retention: () => retention.run(),
    reconcile: () => reconciler.run(),
    'search-index': async () => {
      const update = await searchIndexes.maintain(config.models.model, config.search.exactMaxFrames);
      if (update) logger.info({ ...update }, 'search index updated');
      return (
        update ?? {
          skipped: `at most VAD_SEARCH_EXACT_MAX_FRAMES (${config.search.exactMaxFrames}) frames: exact search needs no index`,
        }
      );
    },
  };
  const worker = createMaintenanceWorker(
    async (job) => {
      const handle = Object.hasOwn(handlers, job.name) ? handlers[job.name as MaintenanceJobName] : undefined;
      if (!handle) throw new UnrecoverableError(`no handler for maintenance job "${job.name}"`);
      return handle();
    },
    config,
    connection,
  );
  worker.on('error', logQueueState(connection, logger, 'scheduler worker'));
  // A maintenance job that fails runs again at its next time; a database outage is only noted.
  worker.on('failed', (job, error) =>
    isDatabaseUnavailable(error)
      ? logger.warn({ jobId: job?.id }, 'maintenance job postponed: database unreachable')
      : logger.error({ jobId: job?.id, err: error }, 'maintenance job failed'),
  );
  void worker.run();
  logger.info(
    {
      retentionAt: `${config.retention.at} ${config.schedule.timeZone}`,
      reconcileEveryS: config.reconcile.everyS,
      window: config.schedule.window ?? 'always',
    },
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
