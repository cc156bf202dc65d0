import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { QUEUE_NAMES } from '@vad/queue';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ApiContext } from './api-context.js';
import { registerAuth } from './auth.js';
import { registerErrorHandler } from './error-handler.js';
import { registerCameraRoutes } from './routes/cameras.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerUploadRoute } from './routes/upload.js';
import { registerVideoRoutes } from './routes/videos.js';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The HTTP API: routes validated by zod schemas (and documented from them at
 * /docs), bearer-token auth on everything but /healthz and /readyz, Bull
 * Board under /admin/queues for admins.
 */
export async function buildApp(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Uploads are streamed to disk, never buffered; JSON bodies stay small.
    bodyLimit: 1024 * 1024,
  });
  registerErrorHandler(app);
  registerAuth(app, ctx.config.api.tokens);

  await app.register(fastifyMultipart, { limits: { fileSize: ctx.config.api.uploadMaxBytes } });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'vad API',
        description:
          'Video anomaly detection for surveillance footage: submit videos, read scores and events, watch the queues. ' +
          'Every route but /healthz and /readyz needs `Authorization: Bearer <token>`; uploads, rescore and queue controls need the admin scope.',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const board = new FastifyAdapter();
  board.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(ctx.queues[name])),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'vad queues' } },
  });
  await app.register(board.registerPlugin(), { prefix: BULL_BOARD_PATH });

  // zod compilers only for vad's own routes (Bull Board brings JSON schemas of its own).
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    const api = scope.withTypeProvider<ZodTypeProvider>();
    registerHealthRoutes(api, ctx);
    registerMetricsRoute(api, ctx);
    registerUploadRoute(api, ctx);
    registerVideoRoutes(api, ctx);
    registerEventRoutes(api, ctx);
    registerQueueRoutes(api, ctx);
    registerCameraRoutes(api, ctx);
  });
  return app;
}
