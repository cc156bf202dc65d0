import type { Config, Logger } from '@vad/config';
import type { DatabaseHandle, Repositories } from '@vad/db';
import type { QueueControl, QueueMonitor, SubmitService } from '@vad/operations';
import { createRedisConnection, type Queues } from '@vad/queue';
import { createSearchContext, ProducerContext, type SearchContext } from '@vad/runtime';
import type { Redis } from 'ioredis';
import { ApiMetrics } from './metrics.js';
import type { PathPresenter } from './presenters.js';
import { createRedactor, storagePath } from './redact.js';

/** Everything the routes use, built once per process and closed once. */
export interface ApiContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  repos: Repositories;
  redis: Redis;
  queues: Queues;
  submit: SubmitService;
  monitor: QueueMonitor;
  control: QueueControl;
  metrics: ApiMetrics;
  /** Stored paths relative to the storage root, and messages without absolute paths. */
  paths: PathPresenter;
  /** Search, built on first use (its text encoders load on the first text search). */
  search(): SearchContext;
  /** Resolves once the metrics listen to every queue's events (they wait out a Redis outage). */
  listening: Promise<void>;
  close(): Promise<void>;
}

export function createApiContext(config: Config, logger: Logger): ApiContext {
  const producer = new ProducerContext(config, logger, { poolSize: 10, applicationName: 'vad-api' });
  const { repos, queues } = producer;
  const metrics = new ApiMetrics(queues, repos, logger);
  // Event streams block on their connection: each gets its own, waiting out Redis outages.
  const listenerConnections: Redis[] = [];
  const listening = metrics.start(() => {
    const connection = createRedisConnection(config.redis.url, 'worker');
    let lastLogged = 0;
    connection.on('error', (error: Error) => {
      if (Date.now() - lastLogged < 30_000) return;
      lastLogged = Date.now();
      logger.warn({ err: error, role: 'queue-events' }, 'redis connection error');
    });
    listenerConnections.push(connection);
    return connection;
  });
  listening.catch((error: unknown) => logger.error({ err: error }, 'metrics cannot listen to queue events'));
  let search: SearchContext | undefined;
  return {
    config,
    logger,
    database: producer.db,
    repos,
    redis: producer.redis,
    queues,
    submit: producer.submit,
    monitor: producer.monitor,
    control: producer.control,
    metrics,
    paths: {
      path: (stored) => storagePath(config.storage.root, stored),
      redact: createRedactor(config.storage.root),
    },
    listening,
    search() {
      search ??= createSearchContext(config, repos, logger);
      return search;
    },
    async close() {
      await search?.close();
      // With Redis gone, BullMQ's close waits for a connection that never comes: bound it.
      await Promise.race([metrics.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      for (const connection of listenerConnections) connection.disconnect();
      await producer.close();
    },
  };
}
