import type { Config, Logger } from '@vad/config';
import { migrateDatabase } from '@vad/db';
import { type EmbeddedServer, isPortOpen, startEmbeddedPostgres } from '@vad/embedded';
import { migrateQueueSchema, queueSchemaOf, type RunningWorker } from '@vad/queue';

/** How long a probe waits for a service's port to accept a connection. */
const PROBE_MS = 1_000;
/** How often a long-running process probes a service it waits for. */
const WAIT_EVERY_MS = 2_000;

/** Exit status of a command whose service is unreachable (EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

export type ServiceName = 'PostgreSQL' | 'Redis';

/** A service a process needs does not answer: the message is one line that says which, where and what to do. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';

  constructor(
    readonly service: ServiceName,
    readonly address: string,
    readonly variable: string,
    hint: string,
  ) {
    super(`${service} at ${address} does not answer (${variable}). ${hint}`);
  }
}

/** How to get a service that does not answer: start it, or do without it. */
function howToStart(service: ServiceName, config: Config, embedded: boolean): string {
  if (service === 'Redis') {
    return 'Start it (docker compose -f infra/docker-compose.yml up -d redis, or: apt install redis-server), or set VAD_QUEUE_BACKEND=postgres to keep the queues in PostgreSQL.';
  }
  const start = 'Start it (docker compose -f infra/docker-compose.yml up -d postgres, or: apt install postgresql)';
  if (embedded || config.embedded.mode === 'off') return `${start}.`;
  return `${start}, or unset VAD_DATABASE_URL${config.redis.explicit ? ' and VAD_REDIS_URL' : ''} to use the embedded PostgreSQL.`;
}

/** What a process runs on once its services are resolved. */
export interface ResolvedServices {
  /** The configuration with the database URL and the queue backend decided. */
  config: Config;
  /** The embedded PostgreSQL server, when vad uses it. */
  embedded: EmbeddedServer | undefined;
  /** One line for people: where results and queues live. */
  summary: string;
  /** Lets go of the embedded server (stopped when this was the last process using it). Call after closing connections. */
  release(): Promise<void>;
}

export interface ResolveServicesOptions {
  logger: Logger;
  /**
   * `fail` (one-shot commands): a service that does not answer stops the
   * process with ServiceUnavailableError; `wait` (workers, API): wait for it,
   * one log line when waiting starts and one when it answers; `skip`: do not
   * check (vad doctor reports for itself).
   */
  unreachable: 'fail' | 'wait' | 'skip';
  /** Whether the process uses the queues (the Redis check is skipped otherwise). */
  queues?: boolean;
}

const addressOf = (url: string, port: number) => {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || port),
    text: `${parsed.hostname}:${parsed.port || port}`,
  };
};

/**
 * Decides where a process's results and queues live, and makes sure they
 * answer:
 * - PostgreSQL: VAD_DATABASE_URL; or, with VAD_EMBEDDED=on, or when neither
 *   VAD_DATABASE_URL nor VAD_REDIS_URL is set and nothing answers at the
 *   default address, the embedded server under VAD_EMBEDDED_DIR (started by
 *   the first vad process, shared by the others, migrated when it starts).
 * - Queues (VAD_QUEUE_BACKEND=auto): Redis when VAD_REDIS_URL is set or
 *   Redis answers at the default address, else PostgreSQL. (Set it
 *   explicitly where several machines share the queues: a process that
 *   found Redis down would otherwise queue elsewhere.)
 * The queue schema is migrated when the queues live in PostgreSQL.
 */
export async function resolveServices(config: Config, options: ResolveServicesOptions): Promise<ResolvedServices> {
  const { logger } = options;
  const database = addressOf(config.database.url, 5432);
  const redis = addressOf(config.redis.url, 6379);
  const explicit = config.database.explicit || config.redis.explicit;
  const useEmbedded =
    config.embedded.mode === 'on' ||
    (config.embedded.mode === 'auto' && !explicit && !(await isPortOpen(database.host, database.port, PROBE_MS)));

  let embedded: EmbeddedServer | undefined;
  let databaseUrl = config.database.url;
  if (useEmbedded) {
    embedded = await startEmbeddedPostgres({ dataDir: config.embedded.dir, port: config.embedded.port, logger });
    databaseUrl = embedded.url;
  }

  let backend = config.queue.backend;
  if (backend === 'auto') {
    backend = config.redis.explicit || (await isPortOpen(redis.host, redis.port, PROBE_MS)) ? 'redis' : 'postgres';
  }
  const resolved: Config = {
    ...config,
    database: { ...config.database, url: databaseUrl },
    queue: { ...config.queue, backend },
  };

  const release = async () => {
    await embedded?.release();
  };
  try {
    if (!embedded && options.unreachable !== 'skip') {
      await reachable('PostgreSQL', database, 'VAD_DATABASE_URL', howToStart('PostgreSQL', config, false), options);
    }
    if (backend === 'redis' && options.queues !== false && options.unreachable !== 'skip') {
      await reachable('Redis', redis, 'VAD_REDIS_URL', howToStart('Redis', config, useEmbedded), options);
    }
    // A server this process started may be new: its database gets vad's tables before anything queries them.
    if (embedded?.startedHere) await migrateDatabase(databaseUrl);
    if (backend === 'postgres')
      await migrateQueueSchema(resolved).catch((error: unknown) => ignoreMissingDatabase(error));
  } catch (error) {
    await release();
    throw error;
  }

  const results = embedded
    ? `embedded PostgreSQL at 127.0.0.1:${embedded.port} (${embedded.startedHere ? 'started' : 'shared'}; data in ${embedded.dataDir})`
    : `PostgreSQL at ${database.text}`;
  const queues =
    backend === 'redis' ? `Redis at ${redis.text}` : `PostgreSQL (schema ${queueSchemaOf(config.queue.prefix)})`;
  return { config: resolved, embedded, summary: `vad: results in ${results}; queues in ${queues}`, release };
}

/** A database that does not exist yet (before `vad db migrate`): its queue schema is made with it. */
function ignoreMissingDatabase(error: unknown): void {
  if ((error as { code?: string }).code === '3D000') return;
  throw error;
}

async function reachable(
  service: ServiceName,
  address: { host: string; port: number; text: string },
  variable: string,
  hint: string,
  options: ResolveServicesOptions,
): Promise<void> {
  if (await isPortOpen(address.host, address.port, PROBE_MS)) return;
  if (options.unreachable === 'fail') throw new ServiceUnavailableError(service, address.text, variable, hint);
  options.logger.warn(`${service} at ${address.text} does not answer (${variable}): waiting for it`);
  const since = Date.now();
  while (!(await isPortOpen(address.host, address.port, PROBE_MS))) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_EVERY_MS));
  }
  options.logger.info({ waitedMs: Date.now() - since }, `${service} at ${address.text} answers`);
}

/**
 * For a long-running process (workers, API): resolve its services, waiting
 * for those that do not answer yet, say in one line where results and
 * queues live, start, and let go of the embedded server after closing.
 */
export async function startWithServices(
  config: Config,
  logger: Logger,
  start: (config: Config) => Promise<RunningWorker>,
): Promise<RunningWorker> {
  const services = await resolveServices(config, { logger, unreachable: 'wait' });
  logger.info(services.summary);
  let running: RunningWorker;
  try {
    running = await start(services.config);
  } catch (error) {
    await services.release();
    throw error;
  }
  return {
    async close() {
      try {
        await running.close();
      } finally {
        await services.release();
      }
    },
  };
}
