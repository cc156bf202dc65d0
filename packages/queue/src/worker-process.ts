import type { Logger } from '@vad/config';

/** A started worker role: stops taking jobs, hands back or finishes running ones, closes its connections. */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * For a worker process's entry point: on SIGTERM or SIGINT close the worker
 * once, then exit 0 (or 1 if closing failed).
 */
export function stopOnSignals(worker: RunningWorker, logger: Logger): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      worker.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * For a process's entry point whose start is asynchronous (API, scheduler):
 * once started, stop on signals as above; if starting fails, log it and exit 1.
 */
export function runUntilStopped(starting: Promise<RunningWorker>, logger: Logger, what: string): void {
  starting.then(
    (running) => stopOnSignals(running, logger),
    (error: unknown) => {
      logger.fatal({ err: error }, `${what} failed to start`);
      process.exit(1);
    },
  );
}
