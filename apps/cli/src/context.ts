import { type Config, createLogger, type Logger, loadConfigOrExit } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { createQueues, createRedisConnection, type Queues } from '@vad/queue';
import type { Redis } from 'ioredis';

/**
 * What a command needs, opened on first use and closed once at the end, so a
 * command that needs only Postgres never connects to Redis.
 */
export class CliContext {
  readonly config: Config;
  readonly logger: Logger;
  private database?: DatabaseHandle;
  private redis?: Redis;
  private queueSet?: Queues;

  constructor() {
    this.config = loadConfigOrExit();
    // The CLI talks to people on stdout/stderr; its structured logs only say what went wrong.
    this.logger = createLogger(
      { log: { level: process.env.VAD_LOG_LEVEL ? this.config.log.level : 'warn' } },
      'cli',
      2,
    );
  }

  private repositories?: Repositories;

  get db(): DatabaseHandle {
    this.database ??= createDatabase(this.config.database.url, { max: 2, applicationName: 'vad-cli' });
    return this.database;
  }

  get repos(): Repositories {
    this.repositories ??= createRepositories(this.db.db);
    return this.repositories;
  }

  get queues(): Queues {
    if (!this.queueSet) {
      this.redis = createRedisConnection(this.config.redis.url, 'producer');
      this.queueSet = createQueues(this.config, this.redis);
    }
    return this.queueSet;
  }

  async close(): Promise<void> {
    await this.queueSet?.close();
    this.redis?.disconnect();
    await this.database?.close();
  }
}
