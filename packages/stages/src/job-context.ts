/** What a service needs to know about the job it runs, without depending on BullMQ's Job class. */
export interface JobContext {
  jobId: string;
  /** Attempts that already failed before this one. */
  attemptsMade: number;
  maxAttempts: number;
  /** Aborted when the worker shuts down: stop and let the job be picked up again. */
  signal?: AbortSignal | undefined;
  updateProgress(progress: Record<string, number | string>): Promise<void>;
}

/** Whether a failure of this attempt is the last one (no retry will follow). */
export function isFinalAttempt(context: Pick<JobContext, 'attemptsMade' | 'maxAttempts'>): boolean {
  return context.attemptsMade + 1 >= context.maxAttempts;
}
