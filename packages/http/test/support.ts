import { realpathSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, createApiToken, type Logger } from '@vad/config';
import { migrateQueueSchema } from '@vad/queue';
import {
  createTestConfig,
  createTestEnvironment,
  generateVideo,
  type TestEnvironment,
  writeTextAsVideo,
} from '@vad/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type ApiContext, type AppOptions, buildApp, createApiContext } from '../src/index.js';

/** Tokens and settings the HTTP tests share. */
export const admin = createApiToken('ops', 'admin');
export const reader = createApiToken('grafana', 'read');

export const apiSettings = (): Record<string, string> => ({
  VAD_SEGMENT_FRAMES: '16',
  VAD_API_TOKENS: `${admin.entry},${reader.entry}`,
  VAD_JOB_ATTEMPTS: '2',
});

export const auth = (token = admin.token) => ({ authorization: `Bearer ${token}` });

/** The environment's configuration with some variables changed (same database and prefix, its own storage). */
export function changedConfig(env: TestEnvironment, changed: Record<string, string>): Config {
  return createTestConfig({
    databaseUrl: env.db.url,
    redisUrl: env.redis.url,
    prefix: env.redis.prefix,
    env: { VAD_MODEL: 'vad-test-tiny', VAD_EXECUTION_PROVIDER: 'cpu', ...apiSettings(), ...changed },
  });
}

export interface TestApi {
  ctx: ApiContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** An API context and app on `config` (not listening; use app.inject or app.listen). */
export async function openApi(config: Config, logger: Logger, options: AppOptions = {}): Promise<TestApi> {
  await migrateQueueSchema(config);
  const ctx = createApiContext(config, logger);
  const app = await buildApp(ctx, options);
  return {
    ctx,
    app,
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}

export const json = (response: LightMyRequestResponse) => {
  try {
    return response.json() as Record<string, unknown>;
  } catch {
    return {} as Record<string, unknown>;
  }
};

/**
 * What an answer must never show: absolute paths of this machine (the storage
 * root, the temporary folder, home folders, the working tree), found in `body`.
 */
export function absolutePathsIn(body: string, storageRoot: string): string[] {
  const roots = new Set([storageRoot, realpathSync(storageRoot), tmpdir(), homedir(), process.cwd()]);
  const found: string[] = [];
  for (const root of roots) if (root.length > 1 && body.includes(root)) found.push(root);
  // JSON escapes "/" only optionally: look at the text as sent and unescaped.
  const text = body.replaceAll('\\/', '/');
  for (const match of text.matchAll(
    /(?<![\w.~-])\/(?:tmp|home|work|root|var|usr|etc|proc|opt|mnt|srv|Users)\/[^\s"']*/g,
  )) {
    found.push(match[0]);
  }
  return found;
}

/** A multipart/form-data body by hand: `parts` as [name, value, filename?], the boundary as given. */
export function multipartBody(boundary: string, parts: [string, string | Buffer, string?][]): Buffer {
  const chunks: Buffer[] = [];
  for (const [name, value, filename] of parts) {
    const disposition = filename ? `form-data; name="${name}"; filename="${filename}"` : `form-data; name="${name}"`;
    const type = filename ? '\r\nContent-Type: application/octet-stream' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(typeof value === 'string' ? Buffer.from(value) : value);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** The environment of an API test, with the fixture files the hostile-input and fuzz tests send. */
export async function createApiEnvironment(): Promise<TestEnvironment> {
  const env = await createTestEnvironment({ env: apiSettings() });
  const fixtures = join(env.config.storage.root, 'fixtures');
  await mkdir(fixtures, { recursive: true });
  await generateVideo(join(fixtures, 'plain.mp4'), { durationS: 2, source: 'color=c=gray' });
  await writeTextAsVideo(join(fixtures, 'notes.mp4'));
  await symlink('loop.mp4', join(fixtures, 'loop.mp4'));
  return env;
}
