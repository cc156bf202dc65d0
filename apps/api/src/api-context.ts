import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { processingWindow, QueueControl, QueueMonitor, SubmitService } from '@vad/pipeline';
import { createQueues, createRedisConnection, type Queues } from '@vad/queue';
import { resolveFfmpegBinaries } from '@vad/video';
import type { Redis } from 'ioredis';
import { ApiMetrics } from './metrics.js';

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
  /** Resolves once the metrics listen to every queue's events (they wait out a Redis outage). */
  listening: Promise<void>;
  close(): Promise<void>;
}

export function createApiContext(config: Config, logger: Logger): ApiContext {
  const database = createDatabase(config.database.url, { max: 10, applicationName: 'vad-api' });
  const repos = createRepositories(database.db);
  const redis = createRedisConnection(config.redis.url, 'producer');
  // Redis going away is reported by /readyz and logged here, at most every 30 s per connection.
  const watch = (connection: Redis, role: string) => {
    let lastLogged = 0;
    connection.on('error', (error: Error) => {
      if (Date.now() - lastLogged < 30_000) return;
      lastLogged = Date.now();
      logger.warn({ err: error, role }, 'redis connection error');
    });
    return connection;
  };
  watch(redis, 'producer');
  const queues = createQueues(config, redis);
  const metrics = new ApiMetrics(queues, repos, logger);
  // Event streams block on their connection: each gets its own, waiting out Redis outages.
  const listenerConnections: Redis[] = [];
  const listening = metrics.start(() => {
    const connection = watch(createRedisConnection(config.redis.url, 'worker'), 'queue-events');
    listenerConnections.push(connection);
    return connection;
  });
  listening.catch((error: unknown) => logger.error({ err: error }, 'metrics cannot listen to queue events'));
  return {
    config,
    logger,
    database,
    repos,
    redis,
    queues,
    submit: new SubmitService({ config, repos, queues, binaries: resolveFfmpegBinaries(config.ffmpeg), logger }),
    monitor: new QueueMonitor({ queues, repos, window: processingWindow(config) }),
    control: new QueueControl({ config, queues, repos, logger }),
    metrics,
    listening,
    async close() {
      // With Redis gone, BullMQ's close waits for a connection that never comes: bound it.
      const bounded = (promise: Promise<unknown>) =>
        Promise.race([promise, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      await bounded(metrics.close());
      await bounded(queues.close());
      redis.disconnect();
      for (const connection of listenerConnections) connection.disconnect();
      await database.close();
    },
  };
}
