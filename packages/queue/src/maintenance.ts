import type { Config } from '@vad/config';
import { type Job, Queue, Worker } from 'bullmq';
import type { QueueConnection } from './queue-connection.js';
import { workerSettings } from './worker.js';

/** Housekeeping jobs (retention), apart from the pipeline's stages. */
export const MAINTENANCE_QUEUE = 'maintenance';
export const RETENTION_SCHEDULER_ID = 'retention-daily';
export const RECONCILE_SCHEDULER_ID = 'reconcile-every';
export const SEARCH_INDEX_SCHEDULER_ID = 'search-index-hourly';

/** The maintenance jobs, by name: what the scheduler role handles. */
export const MAINTENANCE_JOBS = ['retention', 'reconcile', 'search-index'] as const;
export type MaintenanceJobName = (typeof MAINTENANCE_JOBS)[number];

export function createMaintenanceQueue(connection: QueueConnection): Queue {
  return new Queue(
    MAINTENANCE_QUEUE,
    {
      ...connection.bull.options,
      defaultJobOptions: { removeOnComplete: { count: 60 }, removeOnFail: { count: 60 }, attempts: 3 },
    },
    connection.bull.factory,
  );
}

/**
 * Schedules the daily retention job at `at` (HH:MM) in `timeZone`, with
 * BullMQ's job scheduler: kept in Redis, produced once however many
 * schedulers run, and updated in place when the time changes.
 */
export async function scheduleRetention(queue: Queue, at: string, timeZone: string): Promise<void> {
  const [hour, minute] = at.split(':').map(Number);
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { pattern: `${minute} ${hour} * * *`, tz: timeZone },
    { name: 'retention', data: {} },
  );
}

/**
 * Schedules the reconciler every `everyS` seconds (kept in Redis, produced
 * once however many schedulers run), and queues one pass now: a scheduler
 * that starts also looks for videos stranded while nothing ran.
 */
export async function scheduleReconcile(queue: Queue, everyS: number): Promise<void> {
  await queue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: everyS * 1000 }, { name: 'reconcile', data: {} });
  await queue.add('reconcile', {}, { jobId: `reconcile-start-${Date.now()}` });
}

/**
 * Schedules the search index's update every hour (VAD_SEARCH_INDEX=auto):
 * finished videos join the index within the hour; or, with `enabled` false,
 * removes the schedule.
 */
export async function scheduleSearchIndex(queue: Queue, enabled: boolean): Promise<void> {
  if (!enabled) {
    await queue.removeJobScheduler(SEARCH_INDEX_SCHEDULER_ID);
    return;
  }
  await queue.upsertJobScheduler(SEARCH_INDEX_SCHEDULER_ID, { every: 3_600_000 }, { name: 'search-index', data: {} });
}

/** A worker for the maintenance queue (one job at a time, long locks: a retention run may take minutes). */
export function createMaintenanceWorker(
  processor: (job: Job) => Promise<unknown>,
  config: Pick<Config, 'queue'>,
  connection: QueueConnection,
): Worker {
  return new Worker(
    MAINTENANCE_QUEUE,
    processor,
    workerSettings(config, connection, { concurrency: 1, lockDurationMs: 10 * 60_000 }),
    connection.bull.factory,
  );
}
