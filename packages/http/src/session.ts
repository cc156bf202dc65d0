import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiToken, Config } from '@vad/config';
import { z } from 'zod';

/** The review app's session cookie: httpOnly, SameSite=Strict, signed, expiring. */
export const SESSION_COOKIE = 'vad_session';
/** The header a cookie-authenticated state-changing request carries its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** What the (signed) cookie holds: which token logged in, until when, and a nonce the CSRF token derives from. */
const sessionValueSchema = z.object({
  /** The token's name. */
  n: z.string(),
  /** The first 16 hex digits of the token's sha256: rotating the token (same name) ends its sessions. */
  h: z.string(),
  /** Expiry, epoch ms. */
  e: z.number(),
  /** Random nonce of this login. */
  s: z.string(),
});
type SessionValue = z.infer<typeof sessionValueSchema>;

export interface IssuedSession {
  /** The cookie's value before signing. */
  value: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface OpenSession {
  token: ApiToken;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * Logins of the review app. The cookie carries no secret (the token stays on
 * the server): the token's name and hash prefix, an expiry and a nonce, signed
 * by @fastify/cookie with the session secret. The CSRF token is an HMAC of the
 * nonce under the same secret, so no server-side store is needed and any API
 * replica with the same secret accepts the session.
 */
export class SessionKeeper {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(token: ApiToken): IssuedSession {
    const session: SessionValue = {
      n: token.name,
      h: token.sha256.slice(0, 16),
      e: this.now() + this.ttlMs,
      s: randomBytes(16).toString('base64url'),
    };
    return {
      value: Buffer.from(JSON.stringify(session)).toString('base64url'),
      csrfToken: this.csrfFor(session.s),
      expiresAt: new Date(session.e),
    };
  }

  /** The session of an (already unsigned) cookie value, when it is well-formed, unexpired and its token still configured. */
  open(value: string, tokens: readonly ApiToken[]): OpenSession | undefined {
    let parsed: SessionValue;
    try {
      parsed = sessionValueSchema.parse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    } catch {
      return undefined;
    }
    if (parsed.e <= this.now()) return undefined;
    const token = tokens.find((t) => t.name === parsed.n && t.sha256.startsWith(parsed.h));
    if (!token) return undefined;
    return { token, csrfToken: this.csrfFor(parsed.s), expiresAt: new Date(parsed.e) };
  }

  /** Whether a presented CSRF token is the session's (constant time). */
  csrfMatches(session: OpenSession, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(session.csrfToken);
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private csrfFor(nonce: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${nonce}`).digest('base64url');
  }
}

/**
 * The key sessions are signed with: VAD_SESSION_SECRET, else a random key
 * created once under the storage root (`secrets/session.key`, mode 600), so
 * logins survive restarts and replicas on shared storage agree.
 */
export async function loadSessionSecret(config: Pick<Config, 'api' | 'storage'>): Promise<Buffer> {
  if (config.api.sessionSecret) return Buffer.from(config.api.sessionSecret);
  const folder = join(config.storage.root, 'secrets');
  const file = join(folder, 'session.key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing && existing.trim().length >= 32) return Buffer.from(existing.trim());
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  try {
    // `wx`: another replica starting at the same moment keeps its key, and we read it back.
    await writeFile(file, `${key}\n`, { flag: 'wx', mode: 0o600 });
    return Buffer.from(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(file, 'utf8')).trim());
  }
}
