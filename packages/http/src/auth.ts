import { type ApiScope, type ApiToken, findApiToken, scopeAllows } from '@vad/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_HEADER, type OpenSession, SESSION_COOKIE, type SessionKeeper } from './session.js';
import { isApiPath } from './web-app.js';

export type RouteAccess = ApiScope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: `public` (no token), `read` or `admin`. Unset: `read`, or `admin` under /admin. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The token the request was authorised with. */
    token?: ApiToken;
    /** The review-app session it came with, when authorised by the session cookie. */
    session?: OpenSession;
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
  const path = routePath(request);
  // The review app's static files hold no data (what they show comes from /v1, which needs a token or session).
  if (!isApiPath(path)) return 'public';
  return path.startsWith('/admin') ? 'admin' : 'read';
}

/** Methods that change state: a session cookie alone does not authorise them (CSRF). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin a browser says the request came from, when it says (Origin, else Referer). */
function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin ?? request.headers.referer;
  if (!origin) return undefined;
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Whether a state-changing request authorised by the session cookie is the
 * review app's own: it carries the session's CSRF token (vad's pages), or, for
 * Bull Board's pages (which cannot add the header), a same-origin Origin.
 */
function csrfSafe(request: FastifyRequest, session: OpenSession, sessions: SessionKeeper): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const header = request.headers[CSRF_HEADER];
  if (sessions.csrfMatches(session, Array.isArray(header) ? header[0] : header)) return true;
  return routePath(request).startsWith('/admin') && requestOrigin(request) === request.headers.host;
}

/** The open session of the request's session cookie, if it has a valid one. */
function sessionOf(request: FastifyRequest, tokens: readonly ApiToken[], sessions: SessionKeeper) {
  const raw = request.cookies?.[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? sessions.open(unsigned.value, tokens) : undefined;
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
 * are compared by their sha256 only (see VAD_API_TOKENS). Without an
 * Authorization header, the review app's session cookie stands for the token
 * it was opened with; a state-changing request must then also carry the
 * session's CSRF token (403 otherwise).
 */
export function registerAuth(app: FastifyInstance, tokens: readonly ApiToken[], sessions?: SessionKeeper): void {
  app.addHook('onRequest', async (request, reply) => {
    const access = requiredAccess(request);
    if (access === 'public') return;
    const secret = presentedToken(request.headers.authorization);
    let token = secret ? findApiToken(tokens, secret) : undefined;
    if (!secret && sessions) {
      const session = sessionOf(request, tokens, sessions);
      if (session) {
        if (!csrfSafe(request, session, sessions)) {
          return reply.code(403).send({
            statusCode: 403,
            error: 'Forbidden',
            message: `a session cookie needs the session's CSRF token in ${CSRF_HEADER} for ${request.method} (GET /v1/session tells it)`,
          });
        }
        token = session.token;
        request.session = session;
      }
    }
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
