import { findApiToken } from '@vad/config';
import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { HttpError } from '../http-errors.js';
import { errorSchema } from '../schemas.js';
import { CSRF_HEADER, SESSION_COOKIE, type SessionKeeper } from '../session.js';
import type { ZodApp } from '../zod-app.js';

const loginBody = z.object({ token: z.string().min(1).max(512) }).strict();

const sessionSchema = z
  .object({
    name: z.string().describe("The token's name"),
    scope: z.enum(['read', 'admin']),
    csrfToken: z
      .string()
      .describe(`Send it as ${CSRF_HEADER} with every state-changing request the session cookie authorises`),
    expiresAt: z.string().nullable().describe('When the session ends (null: authorised by a bearer token)'),
    timeZone: z.string().describe("VAD_TIMEZONE: the cameras' wall clock, in which times without an offset are read"),
  })
  .meta({ id: 'Session' });

/**
 * The review app's login: a token (as `vad tokens create` prints it) is
 * exchanged for a signed, httpOnly, SameSite=Strict session cookie, so the
 * token is never kept in the browser; logout clears it.
 */
export function registerSessionRoutes(app: ZodApp, ctx: ApiContext, sessions: SessionKeeper): void {
  const { tokens } = ctx.config.api;
  const { timeZone } = ctx.config.schedule;

  app.post(
    '/v1/session',
    {
      config: { access: 'public' },
      schema: {
        tags: ['session'],
        summary: 'Log in: exchange an API token for a session cookie (for the review app)',
        security: [],
        body: loginBody,
        response: { 200: sessionSchema, 400: errorSchema, 401: errorSchema },
      },
    },
    async (request, reply) => {
      const token = findApiToken(tokens, request.body.token);
      if (!token) {
        request.log.warn({ ip: request.ip }, 'login refused: unknown token');
        throw new HttpError(401, 'unknown token');
      }
      const issued = sessions.issue(token);
      void reply.setCookie(SESSION_COOKIE, issued.value, {
        signed: true,
        httpOnly: true,
        sameSite: 'strict',
        // Secure whenever the API is reached over HTTPS (directly or behind a proxy that says so).
        secure: 'auto',
        path: '/',
        maxAge: sessions.maxAgeSeconds,
      });
      request.log.info({ token: token.name, scope: token.scope }, 'logged in');
      return {
        name: token.name,
        scope: token.scope,
        csrfToken: issued.csrfToken,
        expiresAt: issued.expiresAt.toISOString(),
        timeZone,
      };
    },
  );

  app.get(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Who is logged in, with the CSRF token of the session',
        response: { 200: sessionSchema, 401: errorSchema },
      },
    },
    async (request) => {
      const token = request.token;
      if (!token) throw new HttpError(401, 'not logged in');
      return {
        name: token.name,
        scope: token.scope,
        csrfToken: request.session?.csrfToken ?? '',
        expiresAt: request.session?.expiresAt.toISOString() ?? null,
        timeZone,
      };
    },
  );

  app.delete(
    '/v1/session',
    {
      // Clearing a cookie harms no one: no token or CSRF token needed, so an expired session can still log out.
      config: { access: 'public' },
      schema: { tags: ['session'], summary: 'Log out: clear the session cookie', security: [] },
    },
    async (_request, reply) => {
      void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' });
      return reply.code(204).send();
    },
  );
}
