import type { Config, Logger } from '@vad/config';
import type { DatabaseHandle, Repositories } from '@vad/db';
import type { QueueControl, QueueMonitor, SubmitService } from '@vad/operations';
import { type QueueConnection, type Queues, queueConnectionOf } from '@vad/queue';
import { createSearchContext, ProducerContext, type SearchContext } from '@vad/runtime';
import { ApiMetrics } from './metrics.js';
import type { PathPresenter } from './presenters.js';
import { createRedactor, storagePath } from './redact.js';

/** Everything the routes use, built once per process and closed once. */
export interface ApiContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  repos: Repositories;
  /** The producer's queue connection (Redis, or the postgres pool of the queue schema). */
  queueConnection: QueueConnection;
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
  // Event streams block on their connection: on Redis each gets its own, waiting out outages; on
  // PostgreSQL they share one pool (each holds one of its connections for LISTEN).
  const listenerConnections: QueueConnection[] = [];
  const listening = metrics.start(() => {
    if (config.queue.backend === 'postgres' && listenerConnections[0]) return listenerConnections[0];
    const connection = queueConnectionOf(config, 'worker', { name: 'vad-api-events', poolSize: 8 });
    let lastLogged = 0;
    connection.on('error', (error) => {
      if (Date.now() - lastLogged < 30_000) return;
      lastLogged = Date.now();
      logger.warn({ err: error, role: 'queue-events', backend: connection.backend }, 'queue connection error');
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
    queueConnection: producer.queueConnection,
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
      // With the queue backend gone, BullMQ's close waits for a connection that never comes: bound it.
      await Promise.race([metrics.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      await Promise.all(listenerConnections.map((connection) => connection.close()));
      await producer.close();
    },
  };
}
