import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { queuesReachable } from '../outage.js';
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

/** `unused`: the queues live in PostgreSQL (VAD_QUEUE_BACKEND=postgres), so Redis is not needed. */
const checkSchema = z.enum(['ok', 'unreachable', 'unused']);
const readySchema = z.object({
  ready: z.boolean(),
  checks: z.object({ redis: checkSchema, postgres: checkSchema }),
});

/**
 * Liveness (the process answers) and readiness (Redis and Postgres answer): no
 * token needed, so a failed check says only `unreachable`; the error itself
 * goes to the log (at most every 30 s per dependency while it lasts).
 */
export function registerHealthRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ ok: z.boolean() }) } },
    },
    async () => ({ ok: true }),
  );

  const lastLogged = { redis: 0, postgres: 0 };
  const check = (promise: Promise<unknown>, what: keyof typeof lastLogged) =>
    withTimeout(promise, what).then(
      () => 'ok' as const,
      (error: unknown) => {
        if (Date.now() - lastLogged[what] >= 30_000) {
          lastLogged[what] = Date.now();
          ctx.logger.warn({ err: error, dependency: what }, 'readiness check failed');
        }
        return 'unreachable' as const;
      },
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
      const queues = ctx.queueConnection;
      // A connection still (re)connecting gets a moment, then the ping says whether the queues answer.
      const queuesAnswer = () =>
        queuesReachable(queues).then((reachable) =>
          reachable ? queues.ping() : Promise.reject(new Error(`${queues.backend} connection ${queues.status}`)),
        );
      const [redis, postgres] = await Promise.all([
        queues.backend === 'redis' ? check(queuesAnswer(), 'redis') : Promise.resolve('unused' as const),
        check(
          queues.backend === 'postgres'
            ? Promise.all([ctx.database.pool.query('select 1'), queuesAnswer()])
            : ctx.database.pool.query('select 1'),
          'postgres',
        ),
      ]);
      const ready = redis !== 'unreachable' && postgres === 'ok';
      return reply.code(ready ? 200 : 503).send({ ready, checks: { redis, postgres } });
    },
  );
}
