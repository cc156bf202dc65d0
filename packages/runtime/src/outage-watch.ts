import type { Logger } from '@vad/config';
import { type DatabaseHandle, isDatabaseUnavailable } from '@vad/db';
import type { QueueConnection } from '@vad/queue';
import type { OutageGuard } from '@vad/stages';

interface Pausable {
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): void;
}

/**
 * Watches a role's PostgreSQL pool through an outage: the first job that
 * finds the database unreachable pauses the role's workers (jobs already
 * taken wait, delayed, without spending an attempt), the pool is probed
 * every few seconds, and the workers resume when it answers. One log line
 * when the outage starts, one when it ends.
 */
export class DatabaseWatch implements OutageGuard {
  readonly retryInMs: number;
  private readonly workers: Pausable[] = [];
  private probing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: DatabaseHandle['pool'],
    private readonly logger: Logger,
    private readonly probeEveryMs = 2000,
  ) {
    this.retryInMs = probeEveryMs * 2;
  }

  watch(worker: Pausable): void {
    this.workers.push(worker);
  }

  isOutage(error: unknown): boolean {
    return isDatabaseUnavailable(error);
  }

  /** Whether the workers are paused for an outage now. */
  get down(): boolean {
    return this.probing !== undefined;
  }

  report(error: unknown): void {
    if (this.probing || this.stopped) return;
    this.logger.warn(
      { reason: error instanceof Error ? error.message : String(error) },
      'database unreachable: this role takes no new jobs until it answers',
    );
    const started = Date.now();
    for (const worker of this.workers) void worker.pause(true).catch(() => {});
    this.probing = this.probeUntilBack().then(() => {
      this.probing = undefined;
      if (this.stopped) return;
      for (const worker of this.workers) worker.resume();
      this.logger.info({ downForMs: Date.now() - started }, 'database answers again: jobs resume');
    });
  }

  /** Stops probing (the role is closing). */
  stop(): void {
    this.stopped = true;
  }

  private async probeUntilBack(): Promise<void> {
    while (!this.stopped) {
      await new Promise((resolve) => setTimeout(resolve, this.probeEveryMs).unref());
      const back = await this.pool.query('select 1').then(
        () => true,
        () => false,
      );
      if (back) return;
    }
  }
}

const QUEUES_UNAVAILABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|Connection is closed|Connection terminated|57P0[123]|0800[0-6]/;
/** What a worker says when Redis lost a job's lock (Redis restarted, or the worker stalled): the job runs again. */
const LOCK_LOST = /could not renew lock|Missing lock for job/;

/** Whether an error a worker or queue reports is its queue backend's connection being down. */
export function isQueueBackendUnavailable(error: Error): boolean {
  return QUEUES_UNAVAILABLE.test(`${(error as { code?: string }).code ?? ''} ${error.message}`);
}

/**
 * One log line when the queue backend's connection goes down and one when it
 * is back, instead of one per reconnection attempt (BullMQ reports each).
 * Returns the handler for other errors to be logged as they come.
 */
export function logQueueState(connection: QueueConnection, logger: Logger, what: string): (error: Error) => void {
  let down = false;
  const backend = `${connection.backend} at ${connection.address}`;
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info(`${what}: queues (${backend}) reachable again`);
  });
  return (error: Error) => {
    if (isQueueBackendUnavailable(error)) {
      if (down) return;
      down = true;
      logger.warn({ reason: error.message }, `${what}: queues (${backend}) unreachable, waiting for them`);
      return;
    }
    if (LOCK_LOST.test(error.message)) {
      logger.warn({ reason: error.message }, `${what}: a job's lock was lost; BullMQ runs it again`);
      return;
    }
    logger.error({ err: error }, `${what} error`);
  };
}
