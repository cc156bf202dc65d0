import { EventEmitter } from 'node:events';
import type { Config } from '@vad/config';
import {
  type BackendFactory,
  type ConnectionOptions,
  createPostgresBackend,
  createRedisBackend,
  type Metrics,
  type PostgresPoolConfig,
  type Queue,
  type RedisQueueBackend,
  runMigrations,
} from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';

/** Where the queues live: Redis (recommended), or tables in vad's own PostgreSQL database. */
export type QueueBackendName = 'redis' | 'postgres';

/** Workers wait out outages; producers (CLI, API) fail fast so a person is told at once. */
export type ConnectionRole = 'worker' | 'producer';

/** A delayed job and when it is released. */
export interface DelayedEntry {
  id: string;
  releaseAt: Date;
}

/**
 * What the rest of vad needs of a queue backend's connection, whichever it
 * is: the options every BullMQ class of the process is built with, its state
 * for health checks (ioredis' vocabulary: `ready` when commands go through),
 * and the delayed-job reads BullMQ has no method for (held-jobs.ts). One per
 * process and role; closed by whoever opened it.
 */
export interface QueueConnection {
  readonly backend: QueueBackendName;
  /** host:port, for messages (no credentials). */
  readonly address: string;
  /** `ready` when commands go through; anything else while (re)connecting or closed. */
  readonly status: string;
  /**
   * The options (connection and prefix) and the backend factory every BullMQ
   * class is built with. BullMQ's classes are typed for Redis by default;
   * vad only calls their backend-agnostic methods, so the types stay the
   * default ones and the factory picks the backend at run time.
   */
  readonly bull: { options: { connection: ConnectionOptions; prefix: string }; factory: VadBackendFactory };
  ping(): Promise<void>;
  /** Delayed jobs of a queue released at or after `from` (all when unset), earliest first, at most `limit`. */
  delayed(queue: Queue, options?: { from?: Date; limit?: number }): Promise<DelayedEntry[]>;
  /** How many delayed jobs of the queue are released at or after `from`. */
  delayedCount(queue: Queue, from: Date): Promise<number>;
  /** When a delayed job is released; undefined when it is not delayed. */
  releaseTime(queue: Queue, jobId: string): Promise<Date | undefined>;
  /** BullMQ's per-minute metrics of finished jobs, newest minute first (Queue.getMetrics, complete on both backends). */
  metrics(queue: Queue, type: 'completed' | 'failed', start: number, end: number): Promise<Metrics>;
  /** Events: `ready` (commands go through again), `end` (closed), `error` (a connection error). */
  on(event: 'ready' | 'end' | 'error', listener: (error?: Error) => void): this;
  once(event: 'ready' | 'end', listener: () => void): this;
  off(event: 'ready' | 'end' | 'error', listener: (error?: Error) => void): this;
  close(): Promise<void>;
}

/** Typed as Redis's factory (BullMQ's default class types); at run time the configured backend's. */
export type VadBackendFactory = BackendFactory<RedisQueueBackend>;

export interface QueueConnectionSettings {
  backend: QueueBackendName;
  redisUrl: string;
  databaseUrl: string;
  prefix: string;
  role: ConnectionRole;
  /** Shown in the server's client list (CLIENT LIST, pg_stat_activity). */
  name?: string;
  /** PostgreSQL pool size: every worker's blocking LISTEN holds one connection of it. */
  poolSize?: number;
  redisOptions?: RedisOptions;
}

/**
 * The queue connection a configuration names (its backend resolved at start:
 * see resolveServices in @vad/runtime; `auto` here means Redis).
 */
export function queueConnectionOf(
  config: Pick<Config, 'queue' | 'redis' | 'database'>,
  role: ConnectionRole,
  options: Pick<QueueConnectionSettings, 'name' | 'poolSize'> = {},
): QueueConnection {
  return createQueueConnection({
    backend: config.queue.backend === 'postgres' ? 'postgres' : 'redis',
    redisUrl: config.redis.url,
    databaseUrl: config.database.url,
    prefix: config.queue.prefix,
    role,
    ...options,
  });
}

/**
 * Creates or upgrades the queue schema when the queues live in PostgreSQL
 * (BullMQ's own migrations: idempotent, serialised by an advisory lock, so
 * every process may run it at start); nothing to do on Redis.
 */
export async function migrateQueueSchema(config: Pick<Config, 'queue' | 'redis' | 'database'>): Promise<void> {
  if (config.queue.backend !== 'postgres') return;
  const connection = new PostgresQueueConnection({
    backend: 'postgres',
    redisUrl: config.redis.url,
    databaseUrl: config.database.url,
    prefix: config.queue.prefix,
    role: 'producer',
    name: 'vad-migrate-queues',
    poolSize: 1,
  });
  try {
    await connection.migrate();
  } finally {
    await connection.close();
  }
}

/** The connection for the configured backend. */
export function createQueueConnection(settings: QueueConnectionSettings): QueueConnection {
  return settings.backend === 'postgres' ? new PostgresQueueConnection(settings) : new RedisQueueConnection(settings);
}

/** The schema the postgres backend keeps a prefix's queues in: {vad} → bullmq_vad, {vad-demo} → bullmq_vad_demo. */
export function queueSchemaOf(prefix: string): string {
  return `bullmq_${prefix
    .replace(/^\{|\}$/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

const hostPort = (url: string, port: number) => {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || port}`;
};

/** BullMQ keeps a delayed job in a sorted set scored by its release time × 0x1000 (plus a tie-breaker). */
const DELAYED_SCORE_SCALE = 0x1000;
const releaseTimeOfScore = (score: string | number) => new Date(Math.floor(Number(score) / DELAYED_SCORE_SCALE));
const delayedKey = (queue: Queue) => queue.keys.delayed ?? `${queue.qualifiedName}:delayed`;

/** Queues in Redis: one ioredis connection that BullMQ shares (and duplicates for blocking reads). */
class RedisQueueConnection extends EventEmitter implements QueueConnection {
  readonly backend = 'redis';
  readonly address: string;
  readonly redis: Redis;
  readonly bull: QueueConnection['bull'];

  constructor(settings: QueueConnectionSettings) {
    super();
    this.address = hostPort(settings.redisUrl, 6379);
    this.redis = new Redis(settings.redisUrl, {
      maxRetriesPerRequest: settings.role === 'worker' ? null : 3,
      enableOfflineQueue: settings.role === 'worker',
      connectionName: settings.name ?? `vad-${settings.role}`,
      ...settings.redisOptions,
    });
    for (const event of ['ready', 'end', 'error'] as const) {
      this.redis.on(event, (...args: unknown[]) => {
        if (event !== 'error' || this.listenerCount('error') > 0) this.emit(event, ...args);
      });
    }
    this.bull = { options: { connection: this.redis, prefix: settings.prefix }, factory: createRedisBackend };
  }

  get status(): string {
    return this.redis.status;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async delayed(queue: Queue, options: { from?: Date; limit?: number } = {}): Promise<DelayedEntry[]> {
    const min = options.from ? options.from.getTime() * DELAYED_SCORE_SCALE : '-inf';
    const flat = await this.redis.zrangebyscore(
      delayedKey(queue),
      min,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      options.limit ?? -1,
    );
    const entries: DelayedEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      entries.push({ id: flat[i] ?? '', releaseAt: releaseTimeOfScore(flat[i + 1] ?? 0) });
    }
    return entries;
  }

  delayedCount(queue: Queue, from: Date): Promise<number> {
    return this.redis.zcount(delayedKey(queue), from.getTime() * DELAYED_SCORE_SCALE, '+inf');
  }

  async releaseTime(queue: Queue, jobId: string): Promise<Date | undefined> {
    const score = await this.redis.zscore(delayedKey(queue), jobId);
    return score === null ? undefined : releaseTimeOfScore(score);
  }

  metrics(queue: Queue, type: 'completed' | 'failed', start: number, end: number): Promise<Metrics> {
    return queue.getMetrics(type, start, end);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** How often a postgres connection that lost its server probes it, to report `ready` again. */
const PROBE_MS = 2_000;

/**
 * Queues in PostgreSQL (BullMQ's postgres backend), in the prefix's schema of
 * vad's database. Each BullMQ class builds its own small pool from the
 * settings here (BullMQ honours a schema only on pools it builds) plus, for
 * a worker or event listener, one LISTEN connection; this class keeps a
 * pool of two for health checks and the delayed-job reads. The schema is
 * created or upgraded by `migrate()` (BullMQ's own migrations, idempotent
 * and serialised by an advisory lock), run when a process starts.
 */
export class PostgresQueueConnection extends EventEmitter implements QueueConnection {
  readonly backend = 'postgres';
  readonly address: string;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly bull: QueueConnection['bull'];
  private state: 'connecting' | 'ready' | 'reconnecting' | 'end' = 'connecting';
  private probe: NodeJS.Timeout | undefined;

  constructor(settings: QueueConnectionSettings) {
    super();
    this.address = hostPort(settings.databaseUrl, 5432);
    this.schema = queueSchemaOf(settings.prefix);
    const name = settings.name ?? `vad-${settings.role}`;
    const common = {
      connectionString: settings.databaseUrl,
      keepAlive: true,
      application_name: `${name}-queues`,
      connectionTimeoutMillis: settings.role === 'producer' ? 5_000 : 0,
    };
    this.pool = new pg.Pool({ ...common, max: 2, options: `-c search_path=${this.schema}` });
    this.pool.on('error', (error) => this.lost(error));
    // migrate: each BullMQ object brings the schema up to date on connecting (a no-op once it is), so none
    // meets a missing schema, whatever the order processes start in.
    const bullConnection: PostgresPoolConfig = {
      ...common,
      max: settings.poolSize ?? 4,
      schema: this.schema,
      migrate: true,
    };
    this.bull = {
      options: { connection: bullConnection as unknown as ConnectionOptions, prefix: settings.prefix },
      factory: createPostgresBackend as unknown as VadBackendFactory,
    };
    this.check();
  }

  get status(): string {
    return this.state;
  }

  /** Creates or upgrades the queue schema (a no-op when it is current). */
  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await runMigrations(client, this.schema);
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query('select 1');
      this.up();
    } catch (error) {
      this.lost(error as Error);
      throw error;
    }
  }

  async delayed(queue: Queue, options: { from?: Date; limit?: number } = {}): Promise<DelayedEntry[]> {
    const { rows } = await this.pool.query<{ id: string; at: string }>(
      `select id, process_at_ms as at from job where queue = $1 and state = 'delayed' and process_at_ms >= $2
       order by process_at_ms limit $3`,
      [queue.name, options.from?.getTime() ?? 0, options.limit ?? null],
    );
    return rows.map((row) => ({ id: row.id, releaseAt: new Date(Number(row.at)) }));
  }

  async delayedCount(queue: Queue, from: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `select count(*) as n from job where queue = $1 and state = 'delayed' and process_at_ms >= $2`,
      [queue.name, from.getTime()],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async releaseTime(queue: Queue, jobId: string): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ at: string }>(
      `select process_at_ms as at from job where queue = $1 and id = $2 and state = 'delayed'`,
      [queue.name, jobId],
    );
    return rows[0] ? new Date(Number(rows[0].at)) : undefined;
  }

  /**
   * BullMQ 6.7's PostgreSQL backend returns the per-minute points but not
   * when the newest was taken (prevTS) nor the count then (prevCount),
   * which the points are relative to: they are read from its table here.
   */
  async metrics(queue: Queue, type: 'completed' | 'failed', start: number, end: number): Promise<Metrics> {
    const [metrics, { rows }] = await Promise.all([
      queue.getMetrics(type, start, end),
      this.pool.query<{ prev_ts: string | null; prev_count: string }>(
        'select prev_ts, prev_count from metrics where queue = $1 and kind = $2',
        [queue.name, type],
      ),
    ]);
    const row = rows[0];
    if (!row || metrics.meta.prevTS) return metrics;
    return {
      ...metrics,
      meta: { ...metrics.meta, prevTS: Number(row.prev_ts ?? 0), prevCount: Number(row.prev_count) },
    };
  }

  async close(): Promise<void> {
    clearTimeout(this.probe);
    this.state = 'end';
    this.emit('end');
    await this.pool.end().catch(() => {});
  }

  private check(): void {
    this.ping().catch(() => {});
  }

  private up(): void {
    if (this.state === 'ready' || this.state === 'end') return;
    this.state = 'ready';
    clearTimeout(this.probe);
    this.emit('ready');
  }

  private lost(error: Error): void {
    if (this.state === 'end') return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this.state === 'reconnecting' && this.probe) return;
    this.state = 'reconnecting';
    this.probe = setTimeout(() => {
      this.probe = undefined;
      this.check();
    }, PROBE_MS);
    this.probe.unref();
  }
}
