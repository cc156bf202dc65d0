import type { Logger } from '@vad/config';
import { holdJob, type JobData, parseJobData, type QueueName, UnrecoverableError, type VadProcessor } from '@vad/queue';
import type { ProcessingGate } from '@vad/schedule';
import { DelayedError, WaitingError } from 'bullmq';
import { HeldByWindow, isFinalAttempt, type JobContext } from './job-context.js';

export interface JobHandler<Q extends QueueName, R> {
  queue: Q;
  handle(data: JobData[Q], context: JobContext): Promise<R>;
  /** Called once, when the job has failed for good (bad input, or its last attempt). */
  onFinalFailure?(data: JobData[Q], reason: string): Promise<void>;
}

/**
 * Turns a service's handler into a BullMQ processor: the payload is checked
 * against its schema, progress and cancellation are passed through a
 * JobContext, a job interrupted by shutdown goes back to the queue without
 * spending an attempt, and a final failure is recorded (e.g. in the video's
 * row) so the user can read why.
 */
/** A dependency the handlers need (the database) is unreachable: jobs wait instead of spending attempts. */
export interface OutageGuard {
  /** Whether this error means the dependency is unreachable (not that the job is wrong). */
  isOutage(error: unknown): boolean;
  /** Told of each such error (e.g. to pause the worker and watch for the dependency's return). */
  report(error: unknown): void;
  /** How long the job waits before it is tried again. */
  retryInMs: number;
}

/** How long a job that met an outage keeps trying to be delayed (its lock holds it meanwhile). */
const DELAY_THROUGH_OUTAGE_MS = 10 * 60_000;

/**
 * Delays a job that met an outage. With the queues in PostgreSQL the outage
 * takes the queues down too, so the move itself fails: it is tried again
 * until the database answers (the worker keeps renewing the job's lock
 * meanwhile), so a short outage costs no attempt there either. If the job
 * was taken from this worker meanwhile (its lock ran out and the stalled
 * check put it back), there is nothing left to do.
 */
async function delayThroughOutage(move: () => Promise<unknown>, outage: OutageGuard, logger: Logger): Promise<void> {
  const until = Date.now() + DELAY_THROUGH_OUTAGE_MS;
  for (;;) {
    try {
      await move();
      return;
    } catch (error) {
      if (!outage.isOutage(error) || Date.now() > until) {
        logger.debug({ err: error }, 'a job that met an outage could not be delayed; the stalled check takes it back');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, outage.retryInMs / 2));
    }
  }
}

export function createJobProcessor<Q extends QueueName, R>(
  handler: JobHandler<Q, R>,
  logger: Logger,
  options: { gate?: ProcessingGate | undefined; outage?: OutageGuard | undefined } = {},
): VadProcessor<Q> {
  // Three declared parameters: BullMQ passes an AbortSignal only to processors that take one.
  return async (job, token, signal) => {
    const data = parseJobData(handler.queue, job.data);
    const gate = data.urgent ? undefined : options.gate;
    // Outside the processing window, work that is not urgent waits (delayed in
    // Redis, no attempt spent, marked as held) until the window opens.
    const releaseAt = gate?.releaseAt();
    if (gate && releaseAt) {
      await holdJob(job, token, releaseAt, gate.describe());
      logger.debug({ jobId: job.id, queue: handler.queue, releaseAt }, 'held until the processing window opens');
      throw new DelayedError();
    }
    const context: JobContext = {
      jobId: job.id ?? 'unknown',
      attemptsMade: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      signal,
      updateProgress: (progress) => job.updateProgress(progress),
      ...(gate ? { heldUntil: () => gate.releaseAt() } : {}),
    };
    try {
      return await handler.handle(data, context);
    } catch (error) {
      if (signal?.aborted) {
        // Shutting down: hand the job back to the queue for this or another worker.
        logger.info({ jobId: job.id, queue: handler.queue }, 'job released on shutdown');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (gate && error instanceof HeldByWindow) {
        // The window closed mid-job: the job stopped where it can resume, and frees its worker slot.
        await holdJob(job, token, error.until, gate.describe());
        logger.info(
          { jobId: job.id, queue: handler.queue, stoppedAt: error.at, releaseAt: error.until },
          'the processing window closed: job handed back until it opens',
        );
        throw new DelayedError();
      }
      const { outage } = options;
      if (outage?.isOutage(error)) {
        // Not the job's fault: it waits (delayed, no attempt spent) and the worker pauses until the outage ends.
        outage.report(error);
        await delayThroughOutage(() => job.moveToDelayed(Date.now() + outage.retryInMs, token), outage, logger);
        throw new DelayedError();
      }
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof UnrecoverableError || isFinalAttempt(context)) {
        logger.warn({ jobId: job.id, queue: handler.queue, reason }, 'job failed for good');
        await handler.onFinalFailure?.(data, reason).catch((hookError: unknown) => {
          logger.error({ jobId: job.id, err: hookError }, 'could not record the failure');
        });
      } else {
        logger.warn(
          { jobId: job.id, queue: handler.queue, reason, attempt: context.attemptsMade + 1 },
          'job will retry',
        );
      }
      throw error;
    }
  };
}
