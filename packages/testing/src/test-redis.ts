import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.VAD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** A key prefix of its own, hash-tagged like production's: {vad-test-<random>}. */
  prefix: string;
  /** Deletes every key under the prefix (and prefixes derived from it, e.g. the demo's) and disconnects. */
  destroy(): Promise<void>;
}

export function createTestRedis(): TestRedis {
  const prefix = `{vad-test-${randomBytes(5).toString('hex')}}`;
  return {
    url: TEST_REDIS_URL,
    prefix,
    async destroy() {
      const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
      await redis.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.slice(0, -1)}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
