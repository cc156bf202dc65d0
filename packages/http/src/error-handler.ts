import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { HttpError } from './http-errors.js';

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
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * One error shape for every route: `{statusCode, error, message, field?}`.
 * Schema failures name the field (`querystring.limit: …`); unexpected errors
 * are logged and answered 500 without internals.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (statusCode: number, message: string, field?: string) => {
      const body: ErrorBody = { statusCode, error: reasons[statusCode] ?? 'Error', message };
      if (field) body.field = field;
      return reply.code(statusCode).send(body);
    };
    if (error instanceof HttpError) return send(error.statusCode, error.message, error.field);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const context = error.validationContext ?? 'request';
      const fieldOf = (instancePath: string) => {
        const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
        return path ? `${context}.${path}` : context;
      };
      const message = error.validation.map((v) => `${fieldOf(v.instancePath)}: ${v.message}`).join('; ');
      return send(400, message, fieldOf(error.validation[0]?.instancePath ?? ''));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
      return send(500, 'internal error');
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return send(status, 'internal error');
    }
    return send(status, error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` }),
  );
}
