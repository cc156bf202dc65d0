import type { Repositories } from '@vad/db';
import { createQueues, migrateQueueSchema, type Queues, queueConnectionOf } from '@vad/queue';
import {
  configToEnv,
  createTestEnvironment,
  type TestEnvironment,
  type TestEnvironmentOptions,
  useTestEnvironment,
} from '@vad/testing';

export interface E2eEnvironment extends TestEnvironment {
  /** The environment worker and CLI processes run with. */
  env: Record<string, string>;
  queues: Queues;
  /** Repositories on the test database (connected on first use, so a test can create it first). */
  repos: Repositories;
  /** Rows of a raw SQL query on the test database (for checks repositories do not offer). */
  databaseRows(query: string, values?: unknown[]): Promise<unknown[]>;
}

/** The test environment of @vad/testing, with the variables processes get and the queues to look into. */
export async function createE2eEnvironment(
  overrides: Record<string, string>,
  options: Omit<TestEnvironmentOptions, 'env'> = {},
): Promise<E2eEnvironment> {
  const base = await createTestEnvironment({ tinyModel: false, ...options, env: overrides });
  // On the postgres backend (VAD_TEST_QUEUE_BACKEND=postgres) the queue schema exists before the test looks into it.
  await migrateQueueSchema(base.config);
  const connection = queueConnectionOf(base.config, 'worker');
  base.track({ close: () => connection.close() });
  const queues = base.track(createQueues(base.config, connection));
  return {
    ...base,
    // Workers log at info (tests read their output); the CLI only warns.
    env: { ...configToEnv(base.config), VAD_LOG_LEVEL: 'info' },
    queues,
    repos: base.db.repos,
    databaseRows: async (query, values = []) => (await base.db.pool.query(query, values)).rows,
  };
}

/** A test file's e2e environment, created before its tests and destroyed after them. */
export function useE2eEnvironment(
  overrides: Record<string, string>,
  options: Omit<TestEnvironmentOptions, 'env'> = {},
): E2eEnvironment {
  return useTestEnvironment({ ...options, env: overrides }, ({ env = {}, ...rest }) => createE2eEnvironment(env, rest));
}

/** Worker settings that make a run slow enough to be interrupted in the middle of a job. */
export const INTERRUPTIBLE = {
  VAD_SEGMENT_FRAMES: '8',
  VAD_EMBED_CONCURRENCY: '2',
  VAD_BATCH_SIZE: '64',
  VAD_LOCK_DURATION_MS: '3000',
} as const;
