import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiSettings, openApi, type TestApi } from './support.js';

/**
 * The OpenAPI document of the API, kept in review as packages/http/openapi.json:
 * the review app's TypeScript types are generated from it (apps/web, openapi-typescript),
 * so a change to a route's shape shows here and reaches the app's type check.
 * `VAD_UPDATE_OPENAPI=1 npx vitest run openapi` rewrites it.
 */
const FILE = join(import.meta.dirname, '..', 'openapi.json');
let env: TestEnvironment;
let api: TestApi;

beforeAll(async () => {
  env = await createTestEnvironment({ env: { ...apiSettings(), VAD_TIMEZONE: 'UTC' } });
  api = await openApi(env.config, env.logger);
  await api.app.ready();
});

afterAll(async () => {
  await api?.close();
  await env?.destroy();
});

describe('openapi.json', () => {
  it('is the document the API serves at /docs/json', async () => {
    const current = `${JSON.stringify(api.app.swagger(), null, 2)}\n`;
    if (process.env.VAD_UPDATE_OPENAPI === '1') await writeFile(FILE, current);
    const committed = await readFile(FILE, 'utf8').catch(() => '');
    expect(committed, 'packages/http/openapi.json is stale: run VAD_UPDATE_OPENAPI=1 npx vitest run openapi').toBe(
      current,
    );
  });
});
