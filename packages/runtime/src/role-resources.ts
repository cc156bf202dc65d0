import type { Config } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { createRedisConnection } from '@vad/queue';
import type { Redis } from 'ioredis';

/** What every worker role opens: a database pool with its repositories and a Redis connection that waits out outages. */
export interface RoleResources {
  database: DatabaseHandle;
  repos: Repositories;
  connection: Redis;
  close(): Promise<void>;
}

export function openRoleResources(config: Config, role: string, poolSize: number): RoleResources {
  const database = createDatabase(config.database.url, { max: poolSize, applicationName: `vad-${role}` });
  const connection = createRedisConnection(config.redis.url, 'worker');
  return {
    database,
    repos: createRepositories(database.db),
    connection,
    async close() {
      await database.close();
      connection.disconnect();
    },
  };
}
