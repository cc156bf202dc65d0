import type { ApiContext } from '../api-context.js';
import type { ZodApp } from '../zod-app.js';

/** Prometheus scrape endpoint (read scope, like the rest of the API). */
export function registerMetricsRoute(app: ZodApp, ctx: ApiContext): void {
  app.get(
    '/metrics',
    { config: { needsRedis: true }, schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (_request, reply) => {
      const body = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(body);
    },
  );
}
