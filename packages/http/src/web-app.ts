import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths the API owns; everything else is the review app's (its files, or its index.html for client-side routes). */
const API_PATHS = /^\/(v1|admin|docs|metrics|healthz|readyz)(\/|$|\?)/;

export const isApiPath = (url: string) => API_PATHS.test(url);

/** The review app built in this checkout: apps/web/dist (the same from packages/http/src and packages/http/dist). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../../apps/web/dist/', import.meta.url));
}

export interface WebApp {
  /** Whether the built app was found. */
  built: boolean;
  dir: string;
  /** For the not-found handler: index.html for a browser's GET of a client-side route; false when not the app's. */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vad</title></head><body>
<main><h1>The review app is not built</h1>
<p>Build it with <code>npm run build -w @vad/web</code> (done by <code>npm ci</code> and <code>npm run build</code>),
or point <code>VAD_WEB_DIR</code> at a built copy, then reload. The API itself is at <a href="/docs">/docs</a>.</p>
</main></body></html>`;

/**
 * Serves the review app (a static single-page app) under `/`, same origin as
 * /v1: hashed assets cached for a year, index.html never cached, and
 * index.html for any other browser GET outside the API's paths, so deep links
 * (/events/12) work. The files hold no data: they are public; the data behind
 * them needs a session.
 */
export async function registerWebApp(app: FastifyInstance, dir: string): Promise<WebApp> {
  const built = existsSync(join(dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      wildcard: false,
      decorateReply: true,
      setHeaders(reply, path) {
        void reply.header(
          'cache-control',
          path.includes(`${join('/', 'assets', '/')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').code(503).send(NOT_BUILT),
    );
  }
  return {
    built,
    dir,
    fallback(request, reply) {
      if (!built || request.method !== 'GET' || isApiPath(request.url)) return false;
      if (!(request.headers.accept ?? '').includes('text/html')) return false;
      void reply.header('cache-control', 'no-cache').sendFile('index.html');
      return true;
    },
  };
}
