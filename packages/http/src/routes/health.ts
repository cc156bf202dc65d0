import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import type { ZodApp } from '../zod-app.js';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref(),
    ),
  ]);
}

const readySchema = z.object({
  ready: z.boolean(),
  checks: z.object({ redis: z.string(), postgres: z.string() }),
});

/** Liveness (the process answers) and readiness (Redis and Postgres answer): no token needed. */
export function registerHealthRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ ok: z.boolean() }) } },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Redis and Postgres are reachable',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const check = (promise: Promise<unknown>, what: string) =>
        withTimeout(promise, what).then(
          () => 'ok',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
      const [redis, postgres] = await Promise.all([
        check(ctx.redis.ping(), 'redis'),
        check(ctx.database.pool.query('select 1'), 'postgres'),
      ]);
      const ready = redis === 'ok' && postgres === 'ok';
      return reply.code(ready ? 200 : 503).send({ ready, checks: { redis, postgres } });
    },
  );
}
