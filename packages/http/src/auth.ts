import { type ApiScope, type ApiToken, findApiToken, scopeAllows } from '@vad/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type RouteAccess = ApiScope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: `public` (no token), `read` or `admin`. Unset: `read`, or `admin` under /admin. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The token the request was authorised with. */
    token?: ApiToken;
  }
}

/** The secret of `Authorization: Bearer T` or, for browsers, `Basic base64(anything:T)`. */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [kind, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (kind?.toLowerCase() === 'bearer') return value.trim();
  if (kind?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** The matched route's pattern (not the raw URL, which may be percent-encoded), else the URL. */
const routePath = (request: FastifyRequest) => request.routeOptions.url ?? request.url;

function requiredAccess(request: FastifyRequest): RouteAccess {
  const access = request.routeOptions.config.access;
  if (access) return access;
  return routePath(request).startsWith('/admin') ? 'admin' : 'read';
}

/** Browser pages (docs, Bull Board) get a Basic challenge so the browser asks for the token. */
function challenge(request: FastifyRequest, reply: FastifyReply): void {
  const path = routePath(request);
  const browserPage = path.startsWith('/admin') || path.startsWith('/docs');
  reply.header('www-authenticate', browserPage ? 'Basic realm="vad", charset="UTF-8"' : 'Bearer realm="vad"');
}

/**
 * Bearer-token authorisation for every route but the public ones: 401 when
 * the token is missing or unknown, 403 when its scope is too small. Tokens
 * are compared by their sha256 only (see VAD_API_TOKENS).
 */
export function registerAuth(app: FastifyInstance, tokens: readonly ApiToken[]): void {
  app.addHook('onRequest', async (request, reply) => {
    const access = requiredAccess(request);
    if (access === 'public') return;
    const secret = presentedToken(request.headers.authorization);
    const token = secret ? findApiToken(tokens, secret) : undefined;
    if (!token) {
      challenge(request, reply);
      return reply.code(401).send({
        statusCode: 401,
        error: 'Unauthorized',
        message: secret ? 'unknown token' : 'a bearer token is required (Authorization: Bearer <token>)',
      });
    }
    if (!scopeAllows(token.scope, access)) {
      return reply.code(403).send({
        statusCode: 403,
        error: 'Forbidden',
        message: `token "${token.name}" has scope ${token.scope}; this needs ${access}`,
      });
    }
    request.token = token;
  });
}
