import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Config } from '@vad/config';
import {
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  dropDatabase,
  migrateDatabase,
  type Repositories,
} from '@vad/db';
import { createQueues, createRedisConnection, type Queues } from '@vad/queue';
import { configToEnv, createTestConfig, createTestRedis, TEST_DATABASE_SERVER } from '@vad/testing';

export interface E2eEnvironment {
  config: Config;
  /** The environment worker and CLI processes run with. */
  env: Record<string, string>;
  databaseUrl: string;
  queues: Queues;
  /** Repositories on the test database (connected on first use, so a test can create it first). */
  readonly repos: Repositories;
  /** Rows of a raw SQL query on the test database (for checks repositories do not offer). */
  databaseRows(query: string, values?: unknown[]): Promise<unknown[]>;
  destroy(): Promise<void>;
}

/** A database, Redis prefix and storage folder of the test file's own, removed by destroy(). */
export async function createE2eEnvironment(
  overrides: Record<string, string>,
  options: { migrate: boolean } = { migrate: true },
): Promise<E2eEnvironment> {
  const databaseUrl = `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;
  const redis = createTestRedis();
  const config = createTestConfig({ databaseUrl, redisUrl: redis.url, prefix: redis.prefix, env: overrides });
  if (options.migrate) await migrateDatabase(databaseUrl);
  const connection = createRedisConnection(redis.url, 'worker');
  const queues = createQueues(config, connection);
  let handle: DatabaseHandle | undefined;
  let repos: Repositories | undefined;
  return {
    config,
    // Workers log at info (tests read their output); the CLI only warns.
    env: { ...configToEnv(config), VAD_LOG_LEVEL: 'info' },
    databaseUrl,
    queues,
    get repos() {
      handle ??= createDatabase(databaseUrl);
      repos ??= createRepositories(handle.db);
      return repos;
    },
    async databaseRows(query, values = []) {
      handle ??= createDatabase(databaseUrl);
      return (await handle.pool.query(query, values)).rows;
    },
    async destroy() {
      await queues.close();
      connection.disconnect();
      await handle?.close();
      await dropDatabase(databaseUrl);
      await redis.destroy();
      await rm(config.storage.root, { recursive: true, force: true });
    },
  };
}
