/** Polls `check` until `accept` holds, or fails naming what it waited for and the last value seen. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Waits until a job the test queued has completed (its state in the queue, not a side effect). */
export function waitForCompleted(
  what: string,
  job: { getState(): Promise<string> },
  timeoutMs = 20_000,
): Promise<string> {
  return waitFor(
    what,
    () => job.getState(),
    (state) => state === 'completed',
    timeoutMs,
  );
}
