/** What a service needs to know about the job it runs, without depending on BullMQ's Job class. */
export interface JobContext {
  jobId: string;
  /** Attempts that already failed before this one. */
  attemptsMade: number;
  maxAttempts: number;
  /** Aborted when the worker shuts down: stop and let the job be picked up again. */
  signal?: AbortSignal | undefined;
  updateProgress(progress: Record<string, number | string>): Promise<void>;
  /**
   * Whether the processing window has closed on this job: when it may go on,
   * or undefined while it may run (always, for urgent jobs and without a
   * window). A long job asks between units of work and, when held, stops
   * with `HeldByWindow` at a point it can resume from.
   */
  heldUntil?(): Date | undefined;
}

/** Whether a failure of this attempt is the last one (no retry will follow). */
export function isFinalAttempt(context: Pick<JobContext, 'attemptsMade' | 'maxAttempts'>): boolean {
  return context.attemptsMade + 1 >= context.maxAttempts;
}

/**
 * Thrown by a handler that stops because the processing window closed: the
 * job goes back to the queue, delayed until the window opens again, without
 * spending an attempt, and frees its worker slot for urgent work.
 */
export class HeldByWindow extends Error {
  override readonly name = 'HeldByWindow';
  constructor(
    readonly until: Date,
    /** Where the job stopped, for the log, e.g. "segment 12". */
    readonly at: string,
  ) {
    super(`the processing window closed: stopped at ${at}, resumes at ${until.toISOString()}`);
  }
}

/** Throws `HeldByWindow` when the window has closed on the job. */
export function stopIfHeld(context: Pick<JobContext, 'heldUntil'>, at: string): void {
  const until = context.heldUntil?.();
  if (until) throw new HeldByWindow(until, at);
}
