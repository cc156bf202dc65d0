import { Redis, type RedisOptions } from 'ioredis';

export type ConnectionRole = 'worker' | 'producer';

/**
 * An ioredis connection for BullMQ. Workers wait out Redis outages
 * (maxRetriesPerRequest: null, as BullMQ requires for blocking commands);
 * producers (CLI, API) fail fast so a user is told Redis is down instead of
 * waiting forever.
 */
export function createRedisConnection(url: string, role: ConnectionRole, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: role === 'worker',
    connectionName: `vad-${role}`,
    ...options,
  });
}
