import { randomBytes } from 'node:crypto';
import {
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  dropDatabase,
  migrateDatabase,
  type Repositories,
} from '@vad/db';

export const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase extends DatabaseHandle {
  url: string;
  repos: Repositories;
  /** Closes the pool and drops the database. */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database of its own (vad_test_<random>), dropped by
 * destroy(). With `migrate: false` only its name is chosen (for a test of
 * `vad db migrate` creating it); the pool connects on first use.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `vad_test_${randomBytes(5).toString('hex')}`;
  const url = `${TEST_DATABASE_SERVER}/${name}`;
  if (options.migrate ?? true) await migrateDatabase(url);
  const handle = createDatabase(url, { max: 4, applicationName: 'vad-test' });
  return {
    ...handle,
    url,
    repos: createRepositories(handle.db),
    async destroy() {
      await handle.close();
      await dropDatabase(url);
    },
  };
}
