import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, loadConfig } from '@vad/config';
import { queueSchemaOf } from '@vad/queue';
import { createTestDatabase, createTestRedis, freePort, type TestDatabase } from '@vad/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServices, ServiceUnavailableError } from '../src/index.js';

const silent = createLogger({ log: { level: 'silent' } }, 'test');
const redis = createTestRedis();
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
  await redis.destroy();
});

const configOf = (env: Record<string, string>) => loadConfig({ envFile: false, env: { VAD_EMBEDDED: 'off', ...env } });

describe('resolveServices', () => {
  it('stops a one-shot command at once when the configured PostgreSQL does not answer, naming it', async () => {
    const port = await freePort();
    const config = configOf({ VAD_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/vad` });
    const started = Date.now();
    const error = await resolveServices(config, { logger: silent, unreachable: 'fail' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain(`PostgreSQL at 127.0.0.1:${port} does not answer (VAD_DATABASE_URL)`);
    expect((error as Error).message).toContain('docker compose -f infra/docker-compose.yml up -d postgres');
    expect((error as Error).message).not.toContain('\n');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('requires the Redis that is configured, unless the queues live in PostgreSQL', async () => {
    const port = await freePort();
    const env = {
      VAD_DATABASE_URL: database.url,
      VAD_REDIS_URL: `redis://127.0.0.1:${port}`,
      VAD_QUEUE_PREFIX: redis.prefix,
    };
    const error = await resolveServices(configOf(env), { logger: silent, unreachable: 'fail' }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain(`Redis at 127.0.0.1:${port} does not answer (VAD_REDIS_URL)`);
    // A command that needs only the database goes ahead.
    const dbOnly = await resolveServices(configOf(env), { logger: silent, unreachable: 'fail', queues: false });
    expect(dbOnly.config.queue.backend).toBe('redis');
    // With the queues in PostgreSQL, Redis is not needed at all, and the queue schema is made.
    const postgres = await resolveServices(configOf({ ...env, VAD_QUEUE_BACKEND: 'postgres' }), {
      logger: silent,
      unreachable: 'fail',
    });
    expect(postgres.config.queue.backend).toBe('postgres');
    expect(postgres.summary).toContain(`queues in PostgreSQL (schema ${queueSchemaOf(redis.prefix)})`);
    const { rows } = await database.pool.query('select 1 from pg_namespace where nspname = $1', [
      queueSchemaOf(redis.prefix),
    ]);
    expect(rows).toHaveLength(1);
  });

  it('picks Redis for the queues when VAD_REDIS_URL answers (auto)', async () => {
    const resolved = await resolveServices(
      configOf({ VAD_DATABASE_URL: database.url, VAD_REDIS_URL: redis.url, VAD_QUEUE_PREFIX: redis.prefix }),
      { logger: silent, unreachable: 'fail' },
    );
    expect(resolved.config.queue.backend).toBe('redis');
    expect(resolved.embedded).toBeUndefined();
    expect(resolved.summary).toMatch(/results in PostgreSQL at 127\.0\.0\.1:\d+; queues in Redis at 127\.0\.0\.1:\d+/);
  });

  it('makes a long-running process wait for its service: one line when waiting starts, one when it answers', async () => {
    const port = await freePort();
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const config = configOf({
      VAD_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/vad`,
      VAD_QUEUE_BACKEND: 'redis',
      VAD_REDIS_URL: redis.url,
    });
    let server: Server | undefined;
    const opening = new Promise<void>((resolve) =>
      setTimeout(() => {
        server = createServer((socket) => socket.destroy()).listen(port, '127.0.0.1', resolve);
      }, 4_500),
    );
    try {
      const resolved = await resolveServices(config, { logger, unreachable: 'wait' });
      await opening;
      expect(resolved.config.database.url).toBe(config.database.url);
      expect(lines.map((line) => line.msg)).toEqual([
        `PostgreSQL at 127.0.0.1:${port} does not answer (VAD_DATABASE_URL): waiting for it`,
        `PostgreSQL at 127.0.0.1:${port} answers`,
      ]);
    } finally {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    }
  }, 20_000);
});
