import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * What a job held by the processing window carries in its progress: when it
 * was to be released and by which window. It lets the window in force re-time
 * held jobs when it changes, and it goes away with the job's next progress
 * report once it runs.
 */
export interface HoldMark {
  heldUntil: string;
  heldBy: string;
}

/** BullMQ keeps a delayed job in a sorted set scored by its release time × 0x1000 (plus a tie-breaker). */
const DELAYED_SCORE_SCALE = 0x1000;

/** The sorted set of a queue's delayed jobs. */
export const delayedKey = (queue: Queue) => queue.keys.delayed ?? `${queue.qualifiedName}:delayed`;

/** A delayed job's release time from its score in that set. */
export const releaseTimeOfScore = (score: string | number) => new Date(Math.floor(Number(score) / DELAYED_SCORE_SCALE));

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

/** When a delayed job is released, from the delayed set itself; undefined when the job is not delayed. */
export async function releaseTime(redis: Redis, queue: Queue, jobId: string): Promise<Date | undefined> {
  const score = await redis.zscore(delayedKey(queue), jobId);
  return score === null ? undefined : releaseTimeOfScore(score);
}

/** Delayed jobs of the queue released at or after `from`, and the earliest of those release times. */
export async function delayedFrom(
  redis: Redis,
  queue: Queue,
  from: Date,
): Promise<{ jobs: number; first: Date | null }> {
  const key = delayedKey(queue);
  const min = from.getTime() * DELAYED_SCORE_SCALE;
  const [jobs, first] = await Promise.all([
    redis.zcount(key, min, '+inf'),
    redis.zrangebyscore(key, min, '+inf', 'WITHSCORES', 'LIMIT', 0, 1),
  ]);
  const score = first[1];
  return { jobs, first: score === undefined ? null : releaseTimeOfScore(score) };
}
