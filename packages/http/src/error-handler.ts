import type { QueueConnection } from '@vad/queue';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { HttpError } from './http-errors.js';
import { NotQueuedError, outageOf, RETRY_AFTER_S } from './outage.js';
import type { Redact } from './redact.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export interface ErrorHandlerOptions {
  /** Takes absolute paths out of every message (see createRedactor). */
  redact: Redact;
  /** The producer's queue connection: errors while it is down are an outage (503), not a bug. */
  queues: Pick<QueueConnection, 'status' | 'backend'>;
  /** Answers a request no route matched instead of the 404 (the review app's deep links); true when it did. */
  fallback?: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

/**
 * An answer sent before the request's body was read to its end (a refused or
 * failed upload) closes the connection: the client is told (`Connection:
 * close`), and the request is destroyed once the answer is out, so an upload
 * still arriving can neither keep the connection open nor hold up shutdown.
 */
export function closeAfterReply(request: FastifyRequest, reply: FastifyReply): void {
  // A real request says whether its body has been received in full; an injected one (tests) has no flag.
  if (request.raw.complete !== false) return;
  reply.header('connection', 'close');
  reply.raw.once('finish', () => request.raw.destroy());
}

/** Fastify's own 4xx errors: what the client sent wrong, by error code. */
function fastifyField(code: string | undefined): string | undefined {
  if (!code) return undefined;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return 'headers.content-type';
  }
  if (code.startsWith('FST_ERR_CTP_') || code.startsWith('FST_')) return 'body';
  return undefined;
}

/** What an error is answered with, before it is sent. */
export interface ErrorAnswer {
  statusCode: number;
  message: string;
  field?: string | undefined;
  /** More of the body (a not-queued submit's video id). */
  extra?: Record<string, unknown>;
}

/**
 * An error as the API answers it: schema failures name the field
 * (`querystring.limit: …`); an unreachable Redis or PostgreSQL is a 503
 * naming it; unexpected errors are logged and answered 500 without
 * internals. No message carries an absolute path of this machine.
 */
export function answerFor(error: FastifyError, options: ErrorHandlerOptions, log: FastifyBaseLogger): ErrorAnswer {
  const answer = (statusCode: number, message: string, field?: string, extra?: Record<string, unknown>) => ({
    statusCode,
    message: options.redact(message),
    field,
    extra,
  });
  if (error instanceof NotQueuedError) {
    log.warn({ err: error.cause ?? error, videoId: error.videoId }, 'video recorded, not queued (redis down)');
    return answer(503, error.message, undefined, { videoId: error.videoId, status: 'queued', queued: false });
  }
  if (error instanceof HttpError) return answer(error.statusCode, error.message, error.field);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = error.validationContext ?? 'request';
    const fieldOf = (instancePath: string) => {
      const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
      return path ? `${context}.${path}` : context;
    };
    const message = error.validation.map((v) => `${fieldOf(v.instancePath)}: ${v.message}`).join('; ');
    return answer(400, message, fieldOf(error.validation[0]?.instancePath ?? ''));
  }
  // Only client input is percent-decoded (Bull Board decodes its query parameters once more).
  if (error instanceof URIError) return answer(400, 'querystring: malformed percent-encoding', 'querystring');
  if (isResponseSerializationError(error)) {
    log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
    return answer(500, 'internal error');
  }
  const outage = outageOf(error, options.queues);
  if (outage) {
    log.warn({ err: error, dependency: outage }, 'dependency unreachable');
    return answer(503, `${outage}: unreachable`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    log.error({ err: error }, 'request failed');
    return answer(500, 'internal error');
  }
  // Fastify's and its plugins' own 4xx (a body that is not JSON, an unknown media type…).
  const field = fastifyField(error.code);
  return answer(status, field ? `${field}: ${error.message}` : error.message, field);
}

/** The body of an answer: `{statusCode, error, message, field?}` (and any extra). */
export function errorBody({ statusCode, message, field, extra }: ErrorAnswer): ErrorBody & Record<string, unknown> {
  const body: ErrorBody & Record<string, unknown> = {
    statusCode,
    error: reasons[statusCode] ?? 'Error',
    message,
    ...extra,
  };
  if (field) body.field = field;
  return body;
}

/**
 * One error shape for every route: `{statusCode, error, message, field?}`
 * (see answerFor), with Retry-After on a 503.
 */
export function registerErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions): void {
  const { redact } = options;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = answerFor(error, options, request.log);
    closeAfterReply(request, reply);
    return reply.code(answer.statusCode).send(errorBody(answer));
  });
  // Every 503, whoever sends it (readyz, Bull Board's own handler), tells when to try again.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_S));
    return payload;
  });
  app.setNotFoundHandler((request, reply) =>
    options.fallback?.(request, reply)
      ? reply
      : reply.code(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `no route ${request.method} ${redact(request.url.split('?')[0] ?? '')}`,
        }),
  );
}
