import type { ApiContext } from '../api-context.js';
import { errorSchema, healthReportSchema, queueParams, queueStateSchema, retryResponseSchema } from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

/** Queue health for operators, and the controls: pause, resume, retry failed. */
export function registerQueueRoutes(app: ZodApp, ctx: ApiContext): void {
  const { monitor, control, queues } = ctx;

  app.get(
    '/v1/queues',
    {
      config: { needsRedis: true },
      schema: {
        tags: ['queues'],
        summary:
          'Counts, oldest waiting job, throughput, processing time, workers, failure reasons, backlog and its drain forecast',
        response: { 200: healthReportSchema },
      },
    },
    async () => {
      const report = await monitor.report();
      const iso = (date: Date | null) => date?.toISOString() ?? null;
      const { forecast } = report;
      return {
        ...report,
        // Failure reasons are workers' error messages: no absolute paths of the machines they ran on.
        queues: report.queues.map((queue) => ({
          ...queue,
          held: { jobs: queue.held.jobs, until: iso(queue.held.until) },
          failureReasons: queue.failureReasons.map((f) => ({ ...f, reason: ctx.paths.redact(f.reason) })),
        })),
        at: report.at.toISOString(),
        backlog: { ...report.backlog, drainAt: iso(report.backlog.drainAt) },
        forecast: {
          ...forecast,
          opensAt: iso(forecast.opensAt),
          closesAt: iso(forecast.closesAt),
          held: forecast.held ? { ...forecast.held, until: forecast.held.until.toISOString() } : null,
          urgentDoneAt: iso(forecast.urgentDoneAt),
          finishAt: iso(forecast.finishAt),
        },
      };
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/queues/:name/${action}`,
      {
        config: { access: 'admin', needsRedis: true },
        schema: {
          tags: ['queues'],
          summary: action === 'pause' ? 'Stop handing jobs of this stage to workers' : 'Hand jobs to workers again',
          params: queueParams,
          response: { 200: queueStateSchema, 400: errorSchema },
        },
      },
      async (request) => {
        const { name } = request.params;
        await control[action](name);
        return { queue: name, isPaused: await queues[name].isPaused() };
      },
    );
  }

  app.post(
    '/v1/queues/:name/retry-failed',
    {
      config: { access: 'admin', needsRedis: true },
      schema: {
        tags: ['queues'],
        summary: 'Send every video with a failed job in this queue through the pipeline again',
        params: queueParams,
        response: { 200: retryResponseSchema, 400: errorSchema },
      },
    },
    async (request) => {
      const { name } = request.params;
      return { queue: name, ...(await control.retryFailed(name)) };
    },
  );
}
