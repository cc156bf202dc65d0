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

/** Waits until a queue has completed at least `count` jobs (e.g. a maintenance run the test queued). */
export function waitForCompleted(
  what: string,
  queue: { getCompletedCount(): Promise<number> },
  count = 1,
  timeoutMs = 20_000,
): Promise<number> {
  return waitFor(
    what,
    () => queue.getCompletedCount(),
    (n) => n >= count,
    timeoutMs,
  );
}
