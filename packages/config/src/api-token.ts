import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const API_SCOPES = ['read', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** A configured API token: only the sha256 of the secret is kept. */
export interface ApiToken {
  name: string;
  scope: ApiScope;
  sha256: string;
}

/** `name:scope:sha256hex`, as `vad tokens create` prints it. */
export const apiTokenEntrySchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9_.-]+:(read|admin):[0-9a-f]{64}$/,
    'each entry must be NAME:SCOPE:SHA256 (scope read or admin, sha256 of the token in hex); create one with `vad tokens create`',
  )
  .transform((entry): ApiToken => {
    const [name, scope, sha256] = entry.split(':') as [string, ApiScope, string];
    return { name, scope, sha256 };
  });

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token (256 bits, URL-safe) and the configuration entry that admits it. */
export function createApiToken(name: string, scope: ApiScope): { token: string; entry: string } {
  const token = `vad_${randomBytes(32).toString('base64url')}`;
  return { token, entry: `${name}:${scope}:${hashApiToken(token)}` };
}

/** The configured token a presented secret matches, compared in constant time. */
export function findApiToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const digest = Buffer.from(hashApiToken(presented), 'hex');
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(digest, Buffer.from(token.sha256, 'hex'))) found = token;
  }
  return found;
}

/** Admin may do everything read may. */
export function scopeAllows(granted: ApiScope, needed: ApiScope): boolean {
  return granted === 'admin' || needed === 'read';
}
