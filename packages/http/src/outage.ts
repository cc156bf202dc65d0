import { QueueingError } from '@vad/operations';
import type { QueueConnection } from '@vad/queue';
import { HttpError } from './http-errors.js';

/** A dependency the API cannot answer without. */
export type Dependency = 'redis' | 'postgres';

/** Seconds a client is asked to wait (Retry-After) before trying again after a 503. */
export const RETRY_AFTER_S = 10;

/** 503: a dependency is unreachable. The message is all the client sees: `redis: unreachable`. */
export class UnavailableError extends HttpError {
  constructor(
    readonly dependency: Dependency,
    message = `${dependency}: unreachable`,
  ) {
    super(503, message);
    this.name = 'UnavailableError';
  }
}

/**
 * 503 for a submit whose video was recorded but could not be queued (Redis
 * down): the body carries the id, the row stays `queued` and is queued when
 * Redis is back (by the reconciler, or by submitting the same file again).
 */
export class NotQueuedError extends UnavailableError {
  constructor(readonly videoId: string) {
    super('redis', 'redis: unreachable; the video is recorded (status queued) and will be queued when Redis is back');
    this.name = 'NotQueuedError';
  }
}

/** The connection state outage checks read. */
type ConnectionState = Pick<QueueConnection, 'status' | 'backend'>;

/** What a 503 names when the queues are unreachable: the backend they live in. */
export const queueDependency = (connection: Pick<QueueConnection, 'backend'>): Dependency => connection.backend;

/** The producer connection is down or (re)connecting: a queue command now fails, or waits for it. */
export const queuesDown = (connection: Pick<QueueConnection, 'status'>) => connection.status !== 'ready';

/** How long a request waits for a connection that is (re)connecting, e.g. just after the API started. */
export const QUEUES_GRACE_MS = 1000;

/** One wait per connection, shared by the requests that arrive meanwhile (one listener, not one each). */
const waits = new WeakMap<object, Promise<boolean>>();

/** Whether the connection is ready, or becomes ready within `graceMs`. */
export function queuesReachable(
  connection: Pick<QueueConnection, 'status' | 'once' | 'off'>,
  graceMs = QUEUES_GRACE_MS,
): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  if (connection.status === 'end') return Promise.resolve(false);
  let wait = waits.get(connection);
  if (!wait) {
    wait = new Promise<boolean>((resolve) => {
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), graceMs);
      function done(ready: boolean) {
        clearTimeout(timer);
        connection.off('ready', onReady);
        waits.delete(connection);
        resolve(ready);
      }
      connection.once('ready', onReady);
    });
    waits.set(connection, wait);
  }
  return wait;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: connection exceptions, server shutting down, too many connections.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i;
/** What ioredis and BullMQ say when a command meets a lost connection. */
const REDIS_MESSAGES = /Connection is closed|Stream isn't writeable|max retries per request/i;

/** The error and what caused it, AggregateError members included. */
function* chain(error: unknown, depth = 0): Generator<unknown> {
  if (!error || depth > 8) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* chain(inner, depth + 1);
  if (error instanceof Error && error.cause) yield* chain(error.cause, depth + 1);
}

/** A query that could not reach PostgreSQL (refused, reset, timed out, server shutting down). */
function isConnectionFailure(error: unknown): boolean {
  for (const e of chain(error)) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
  }
  return false;
}

/** A Redis command that met a lost connection. */
function isLostRedisConnection(error: unknown): boolean {
  for (const e of chain(error)) {
    const { message, name } = (e ?? {}) as { message?: unknown; name?: unknown };
    if (name === 'MaxRetriesPerRequestError' || name === 'ConnectionClosedError') return true;
    if (typeof message === 'string' && REDIS_MESSAGES.test(message)) return true;
  }
  return false;
}

/** A failed database query (drizzle wraps pg's errors; pg's own carry a SQLSTATE or come from the pool). */
function fromPostgres(error: unknown): boolean {
  for (const e of chain(error)) {
    if (!e || typeof e !== 'object') continue;
    // drizzle's DrizzleQueryError (named Error) carries the query; pg's own errors a severity.
    const { query, params, severity } = e as { query?: unknown; params?: unknown; severity?: unknown };
    if (e.constructor?.name === 'DrizzleQueryError' || (typeof query === 'string' && Array.isArray(params)))
      return true;
    if (typeof severity === 'string') return true;
  }
  return false;
}

/**
 * Which dependency an unexpected error comes from, when it is an outage: a
 * query that could not reach PostgreSQL, or anything failing while the Redis
 * connection is down. Undefined for every other error (a bug: 500).
 */
export function outageOf(error: unknown, queues: ConnectionState): Dependency | undefined {
  if (error instanceof UnavailableError) return error.dependency;
  if (fromPostgres(error)) return isConnectionFailure(error) ? 'postgres' : undefined;
  // A programming error stays one, whatever else is down.
  const bug = error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError;
  if (!bug && (queuesDown(queues) || isLostRedisConnection(error))) return queueDependency(queues);
  return undefined;
}

/** A failure to reach Redis (not PostgreSQL): the connection is down, or the error says it was lost. */
export function isQueueFailure(error: unknown, queues: ConnectionState): boolean {
  return outageOf(error, queues) === queueDependency(queues) && (queues.backend === 'redis' || queuesDown(queues));
}

/** The video id of a submit that recorded its video but could not queue it; undefined otherwise. */
export function unqueuedVideoId(error: unknown): string | undefined {
  return error instanceof QueueingError ? error.videoId : undefined;
}
