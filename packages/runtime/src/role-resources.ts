import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { createRedisConnection } from '@vad/queue';
import type { Redis } from 'ioredis';
import { DatabaseWatch } from './outage-watch.js';

/** What every worker role opens: a database pool with its repositories and a Redis connection that waits out outages. */
export interface RoleResources {
  database: DatabaseHandle;
  repos: Repositories;
  connection: Redis;
  /** Pauses the role's workers while PostgreSQL is unreachable. */
  databaseWatch: DatabaseWatch;
  close(): Promise<void>;
}

export function openRoleResources(config: Config, role: string, poolSize: number, logger: Logger): RoleResources {
  const database = createDatabase(config.database.url, { max: poolSize, applicationName: `vad-${role}` });
  const connection = createRedisConnection(config.redis.url, 'worker');
  const databaseWatch = new DatabaseWatch(database.pool, logger);
  return {
    database,
    repos: createRepositories(database.db),
    connection,
    databaseWatch,
    async close() {
      databaseWatch.stop();
      await database.close();
      connection.disconnect();
    },
  };
}
