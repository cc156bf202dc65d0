import type { Logger } from '@vad/config';
import { holdMarkOf, type QueueName, type Queues } from '@vad/queue';
import type { ProcessingGate } from '@vad/schedule';
import { Job } from 'bullmq';

export interface RetimeResult {
  queue: QueueName;
  /** Held jobs looked at. */
  held: number;
  /** Released at once: the window is open now, or there is none any more. */
  released: number;
  /** Moved to the window's new opening time. */
  retimed: number;
}

/** Release times closer than this count as the same. */
const SAME_TIME_MS = 1_000;
const BATCH = 200;

/**
 * Makes a queue's held jobs follow the processing window in force: a job held
 * until a window's opening (marked by `holdJob`) is released at once when the
 * window is open now or has been removed, and moved to the new opening when
 * the window changed. Jobs delayed for other reasons (a retry's backoff, a
 * database outage) are left alone. Run by every stage worker when it starts,
 * with its own window: the window is read from the configuration at start, so
 * a start is when it can have changed.
 */
export async function retimeHeldJobs(
  queues: Queues,
  name: QueueName,
  gate: ProcessingGate | undefined,
  logger: Logger,
): Promise<RetimeResult> {
  const queue = queues[name];
  // A snapshot of the delayed jobs: ids and release times.
  const delayed = await queues.connection.delayed(queue);
  const result: RetimeResult = { queue: name, held: 0, released: 0, retimed: 0 };
  const releaseAt = gate?.releaseAt();
  for (let i = 0; i < delayed.length; i += BATCH) {
    await Promise.all(
      delayed.slice(i, i + BATCH).map(async ({ id, releaseAt: at }) => {
        const job = await Job.fromId(queue, id);
        if (!job || !holdMarkOf(job.progress)) return;
        result.held += 1;
        const urgent = (job.data as { urgent?: boolean }).urgent === true;
        try {
          if (!releaseAt || urgent) {
            await job.promote();
            result.released += 1;
          } else if (Math.abs(at.getTime() - releaseAt.getTime()) > SAME_TIME_MS) {
            await job.changeDelay(Math.max(0, releaseAt.getTime() - Date.now()));
            await job.updateProgress({
              ...(job.progress as object),
              heldUntil: releaseAt.toISOString(),
              heldBy: gate?.describe() ?? '',
            });
            result.retimed += 1;
          }
        } catch (error) {
          // Taken or removed meanwhile (another worker released it): nothing left to re-time.
          logger.debug({ jobId: id, err: error }, 'held job changed while being re-timed');
        }
      }),
    );
  }
  if (result.released || result.retimed) {
    logger.info(
      { ...result, window: gate?.describe() ?? null, releaseAt: releaseAt ?? null },
      'held jobs follow the processing window in force',
    );
  }
  return result;
}
