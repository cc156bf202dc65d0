import type { Writable } from 'node:stream';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { QUEUE_NAMES } from '@vad/queue';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ApiContext } from './api-context.js';
import { registerAuth } from './auth.js';
import { answerFor, errorBody, registerErrorHandler } from './error-handler.js';
import { badRequest } from './http-errors.js';
import { queueDependency, queuesReachable, UnavailableError } from './outage.js';
import { registerCameraRoutes } from './routes/cameras.js';
import { registerEventMediaRoutes } from './routes/event-media.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerSearchRoutes } from './routes/search.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerUploadRoute } from './routes/upload.js';
import { registerVideoRoutes } from './routes/videos.js';
import { loadSessionSecret, SessionKeeper } from './session.js';
import { defaultWebDir, registerWebApp, type WebApp } from './web-app.js';

export const BULL_BOARD_PATH = '/admin/queues';

/** The text of a percent-encoded URL part, or the part itself when it is not valid percent-encoding. */
function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route cannot answer without Redis: while it is down, 503 at once (no waiting on a dead connection). */
    needsRedis?: boolean;
  }
}

export interface AppOptions {
  /**
   * Opens the file an upload is streamed to (default: fs.createWriteStream).
   * A seam for tests that simulate a full or failing disk.
   */
  openUploadFile?: (path: string) => Writable;
  /** The built review app to serve under / (default: VAD_WEB_DIR, else apps/web/dist of this checkout). */
  webDir?: string;
}

/**
 * The HTTP API: routes validated by zod schemas (and documented from them at
 * /docs), bearer-token auth on everything but /healthz and /readyz, Bull
 * Board under /admin/queues for admins.
 */
export async function buildApp(ctx: ApiContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Uploads are streamed to disk, never buffered; JSON bodies stay small.
    bodyLimit: 1024 * 1024,
    // Path parameters as long as the longest camera name, percent-encoded.
    routerOptions: { maxParamLength: 2048 },
    // The router's own refusals in the API's error shape, without echoing the URL.
    frameworkErrors: (error, _request, reply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (error.statusCode ?? 400);
      const message =
        error.code === 'FST_ERR_BAD_URL'
          ? 'params: not a valid URL path (malformed percent-encoding)'
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? 'params: a path parameter is too long'
            : 'request: malformed';
      return (reply as unknown as FastifyReply)
        .code(status)
        .send({ statusCode: status, error: status === 414 ? 'URI Too Long' : 'Bad Request', message, field: 'params' });
    },
  });
  let webApp: WebApp | undefined;
  const errors = {
    redact: ctx.paths.redact,
    queues: ctx.queueConnection,
    fallback: (request: FastifyRequest, reply: FastifyReply) => webApp?.fallback(request, reply) ?? false,
  };
  registerErrorHandler(app, errors);
  const secret = await loadSessionSecret(ctx.config);
  const sessions = new SessionKeeper(secret, ctx.config.api.sessionHours * 3600_000);
  // Cookies are parsed before auth reads the session cookie (hooks run in registration order).
  await app.register(fastifyCookie, { secret, hook: 'onRequest' });
  registerAuth(app, ctx.config.api.tokens, sessions);
  const boardApi = (request: FastifyRequest) =>
    request.routeOptions.url?.startsWith(`${BULL_BOARD_PATH}/api/`) ?? false;
  // A query string that is not valid percent-encoding is the client's mistake on every route (Bull Board's included).
  app.addHook('onRequest', async (request) => {
    const start = request.url.indexOf('?');
    if (start < 0) return;
    let query: string;
    try {
      query = decodeURIComponent(request.url.slice(start + 1));
    } catch {
      throw badRequest('querystring: malformed percent-encoding', 'querystring');
    }
    // Bull Board separates its own error messages with NUL: a NUL in what it validates breaks them (a 500).
    if (boardApi(request) && query.includes('\u0000'))
      throw badRequest('querystring: must not contain NUL', 'querystring');
  });
  // After auth and validation: a bad token or value is told as such even during an outage.
  app.addHook('preHandler', async (request) => {
    if (boardApi(request)) {
      if (safeDecode(request.url.split('?')[0] ?? '').includes('\u0000')) {
        throw badRequest('params: must not contain NUL', 'params');
      }
      if (JSON.stringify(request.body ?? null).includes('\\u0000'))
        throw badRequest('body: must not contain NUL', 'body');
    }
    const needsRedis = request.routeOptions.config.needsRedis || boardApi(request);
    if (needsRedis && !(await queuesReachable(ctx.queueConnection)))
      throw new UnavailableError(queueDependency(ctx.queueConnection));
  });

  webApp = await registerWebApp(app, options.webDir ?? ctx.config.api.webDir ?? defaultWebDir());
  if (!webApp.built) app.log.warn({ dir: webApp.dir }, 'the review app is not built: run `npm run build -w @vad/web`');

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
  // Bull Board answers its API's errors itself: in vad's words too (no library text, 503 while Redis is down).
  // (Its types list fewer statuses than it sends.)
  const boardErrors = (error: Error) => {
    const answer = answerFor(error as FastifyError, errors, app.log);
    return { status: answer.statusCode, body: errorBody(answer) };
  };
  board.setErrorHandler(boardErrors as unknown as Parameters<FastifyAdapter['setErrorHandler']>[0]);
  await app.register(board.registerPlugin(), { prefix: BULL_BOARD_PATH });

  // zod compilers only for vad's own routes (Bull Board brings JSON schemas of its own).
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    const api = scope.withTypeProvider<ZodTypeProvider>();
    registerHealthRoutes(api, ctx);
    registerSessionRoutes(api, ctx, sessions);
    registerMetricsRoute(api, ctx);
    registerUploadRoute(api, ctx, options);
    registerVideoRoutes(api, ctx);
    registerEventRoutes(api, ctx);
    registerEventMediaRoutes(api, ctx);
    registerQueueRoutes(api, ctx);
    registerCameraRoutes(api, ctx);
    registerSearchRoutes(api, ctx);
  });
  return app;
}
