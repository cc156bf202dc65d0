import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { type QueueConnection, queueConnectionOf } from '@vad/queue';
import { DatabaseWatch } from './outage-watch.js';

/** What every worker role opens: a database pool with its repositories and a queue connection that waits out outages. */
export interface RoleResources {
  database: DatabaseHandle;
  repos: Repositories;
  connection: QueueConnection;
  /** Pauses the role's workers while PostgreSQL is unreachable. */
  databaseWatch: DatabaseWatch;
  close(): Promise<void>;
}

export function openRoleResources(config: Config, role: string, poolSize: number, logger: Logger): RoleResources {
  const database = createDatabase(config.database.url, { max: poolSize, applicationName: `vad-${role}` });
  const connection = queueConnectionOf(config, 'worker', { name: `vad-${role}` });
  const databaseWatch = new DatabaseWatch(database.pool, logger);
  return {
    database,
    repos: createRepositories(database.db),
    connection,
    databaseWatch,
    async close() {
      databaseWatch.stop();
      await connection.close();
      await database.close();
    },
  };
}
