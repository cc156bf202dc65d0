import { Job, type Queue } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from './names.js';

/** A child job whose failure failed its parent (failParentOnFailure). */
export interface ChildFailure {
  queue: QueueName;
  jobId: string;
  /** The child's own failure reason, as BullMQ stored it. */
  reason: string;
  /** It failed before using up its attempts: bad input (an UnrecoverableError), which no retry fixes. */
  unrecoverable: boolean;
}

/** Whether a failed job gave up before using its attempts (bad input), rather than running out of them. */
export function failedForGood(job: Pick<Job, 'attemptsMade' | 'opts' | 'failedReason'>): boolean {
  if (/stalled more than allowable limit/.test(job.failedReason ?? '')) return false;
  return job.attemptsMade < (job.opts.attempts ?? 1);
}

/**
 * The children whose failure failed this job (failParentOnFailure): BullMQ
 * keeps their keys in the parent's dependencies (`getDependencies({ failed })`),
 * and each child's own `failedReason` says what went wrong. (A worker sees such
 * a parent arrive with `deferredFailure` set.) Empty when no child failed it.
 */
export async function childFailures(
  job: Job,
  queues: Partial<Record<QueueName, Queue>>,
  limit = 10,
): Promise<ChildFailure[]> {
  const { failed = [] } = await job.getDependencies({ failed: { count: limit } });
  const found: ChildFailure[] = [];
  for (const key of failed) {
    // A job key is `<prefix>:<queue>:<id>`; the prefix itself may hold ':'.
    const parts = key.split(':');
    const jobId = parts.at(-1) ?? '';
    const queue = QUEUE_NAMES.find((name) => name === parts.at(-2));
    const owner = queue ? queues[queue] : undefined;
    if (!queue || !owner) continue;
    const child = await Job.fromId(owner, jobId);
    found.push({
      queue,
      jobId,
      reason: child?.failedReason || 'failed (no reason recorded)',
      unrecoverable: child ? failedForGood(child) : false,
    });
  }
  return found;
}
