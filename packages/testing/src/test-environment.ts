import { rm } from 'node:fs/promises';
import { type Config, createLogger, type Logger } from '@vad/config';
import { afterAll, beforeAll } from 'vitest';
import { createTestConfig } from './test-config.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { ensureTinyModel } from './test-models.js';
import { createTestRedis, type TestRedis } from './test-redis.js';

export interface TestEnvironmentOptions {
  /** Configuration variables on top of the test defaults (own database, prefix, storage, silent logs). */
  env?: Record<string, string>;
  /** Build vad's tiny synthetic test model into the model folder and make it VAD_MODEL (default true). */
  tinyModel?: boolean;
  /** Create and migrate the database (default true); false leaves that to the test. */
  migrate?: boolean;
}

interface Closeable {
  close(): Promise<void> | void;
}

/**
 * What an integration test runs against: a migrated database of its own, a
 * Redis key prefix of its own, a storage folder, the configuration naming
 * them, and a silent logger. Whatever the test opens on top of it is handed
 * to `track` and closed by `destroy`, newest first, before the database is
 * dropped, the keys deleted and the folder removed.
 */
export interface TestEnvironment {
  db: TestDatabase;
  redis: TestRedis;
  config: Config;
  logger: Logger;
  track<T extends Closeable>(closeable: T): T;
  destroy(): Promise<void>;
}

export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const tiny = options.tinyModel ?? true;
  const [db, redis] = await Promise.all([
    createTestDatabase({ migrate: options.migrate }),
    Promise.resolve(createTestRedis()),
  ]);
  const config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: redis.prefix,
    env: { ...(tiny ? { VAD_MODEL: 'vad-test-tiny', VAD_EXECUTION_PROVIDER: 'cpu' } : {}), ...options.env },
  });
  const removeAll = async () => {
    await Promise.allSettled([db.destroy(), redis.destroy()]);
    await rm(config.storage.root, { recursive: true, force: true });
  };
  if (tiny)
    await ensureTinyModel(config.models.dir).catch(async (error: unknown) => {
      await removeAll();
      throw error;
    });
  const tracked: Closeable[] = [];
  return {
    db,
    redis,
    config,
    logger: createLogger({ log: { level: 'silent' } }, 'test'),
    track(closeable) {
      tracked.push(closeable);
      return closeable;
    },
    async destroy() {
      // Everything is removed even when closing something the test opened fails; that failure is thrown after.
      const closing = [];
      for (const closeable of tracked.reverse()) closing.push(await Promise.allSettled([closeable.close()]));
      await removeAll();
      const failed = closing.flat().find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/**
 * A test file's environment: created before its tests (beforeAll), destroyed
 * after them (afterAll). The object returned reads through to it once created,
 * so a file declares it in one line: `const env = useTestEnvironment({ … })`.
 */
export function useTestEnvironment<T extends TestEnvironment = TestEnvironment>(
  options: TestEnvironmentOptions = {},
  create: (options: TestEnvironmentOptions) => Promise<T> = createTestEnvironment as (
    options: TestEnvironmentOptions,
  ) => Promise<T>,
): T {
  let current: T | undefined;
  beforeAll(async () => {
    current = await create(options);
  });
  afterAll(() => current?.destroy());
  return new Proxy({} as T, {
    get(_target, key) {
      if (!current) throw new Error('the test environment is created in beforeAll: use it inside hooks and tests');
      return Reflect.get(current, key);
    },
  });
}
