import type { Job } from 'bullmq';

/**
 * What a job held by the processing window carries in its progress: when it
 * was to be released and by which window. It lets the window in force re-time
 * held jobs when it changes, and it goes away with the job's next progress
 * report once it runs. (Release times themselves are read from the backend:
 * QueueConnection.delayed / releaseTime.)
 */
export interface HoldMark {
  heldUntil: string;
  heldBy: string;
}

/** The hold mark of a job's progress, when it has one. */
export function holdMarkOf(progress: unknown): HoldMark | undefined {
  if (typeof progress !== 'object' || progress === null) return undefined;
  const { heldUntil, heldBy } = progress as Record<string, unknown>;
  return typeof heldUntil === 'string' && typeof heldBy === 'string' ? { heldUntil, heldBy } : undefined;
}

/**
 * Moves an active job to the delayed set until `until` (no attempt spent),
 * marked as held by `window`. The caller throws BullMQ's DelayedError next.
 */
export async function holdJob(job: Job, token: string | undefined, until: Date, window: string): Promise<void> {
  const progress = typeof job.progress === 'object' && job.progress !== null ? job.progress : {};
  await job.updateProgress({ ...progress, heldUntil: until.toISOString(), heldBy: window });
  await job.moveToDelayed(until.getTime(), token);
}
