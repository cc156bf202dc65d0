import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@vad/config';
import { jobIds } from '@vad/queue';
import { createTestEnvironment, generateVideo, TcpProxy, type TestEnvironment, waitFor } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  absolutePathsIn,
  apiSettings,
  auth,
  changedConfig,
  json,
  multipartBody,
  openApi,
  type TestApi,
} from './support.js';

let env: TestEnvironment;
let root: string;

beforeAll(async () => {
  env = await createTestEnvironment({ env: apiSettings() });
  root = env.config.storage.root;
  await mkdir(join(root, 'footage'), { recursive: true });
  await generateVideo(join(root, 'footage', 'gate.mp4'), { durationS: 2, source: 'color=c=gray' });
  await generateVideo(join(root, 'footage', 'door.mp4'), { durationS: 2, source: 'color=c=blue' });
  await generateVideo(join(root, 'footage', 'yard.mp4'), { durationS: 2, source: 'color=c=green' });
}, 60_000);

afterAll(async () => {
  await env?.destroy();
});

/** The test's configuration with other variables, sharing its database, key prefix and storage folder. */
async function sharedConfig(changed: Record<string, string>): Promise<Config> {
  const own = changedConfig(env, changed);
  await rm(own.storage.root, { recursive: true, force: true });
  return { ...own, storage: env.config.storage };
}

function client(api: () => TestApi) {
  return async (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const response = await api().app.inject({
      method,
      url,
      headers: { ...auth(), ...headers },
      ...(payload === undefined ? {} : { payload: payload as string }),
    });
    return { status: response.statusCode, body: json(response), text: response.body, headers: response.headers };
  };
}

const uploadOf = async (name: string) =>
  [
    multipartBody('b0undary', [
      ['camera', 'door'],
      ['file', await readFile(join(root, 'footage', name)), name],
    ]),
    { 'content-type': 'multipart/form-data; boundary=b0undary' },
  ] as const;

const incoming = () => readdir(join(root, 'uploads', 'incoming')).catch(() => [] as string[]);

describe('Redis goes down while the API runs', () => {
  let proxy: TcpProxy;
  let api: TestApi;
  const inject = client(() => api);

  beforeAll(async () => {
    proxy = await new TcpProxy({ host: '127.0.0.1', port: Number(new URL(env.redis.url).port || 6379) }).start();
    api = await openApi(await sharedConfig({ VAD_REDIS_URL: proxy.urlFor(env.redis.url) }), env.logger);
    await api.ctx.listening;
    expect((await inject('GET', '/v1/queues')).status).toBe(200);
    await proxy.cut();
    await waitFor(
      'redis connection lost',
      async () => api.ctx.queueConnection.status,
      (status) => status !== 'ready',
      10_000,
    );
  }, 60_000);

  afterAll(async () => {
    await proxy?.start().catch(() => {});
    await api?.close();
    await proxy?.cut();
  });

  it('/readyz: 503 with a short reason per dependency and nothing else', async () => {
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, checks: { redis: 'unreachable', postgres: 'ok' } });
  });

  it.each(['/v1/queues', '/metrics'])('GET %s: 503 with the reason and Retry-After', async (url) => {
    const response = await inject('GET', url);
    expect(response.status, response.text).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'redis: unreachable' });
  });

  it('queue controls: 503, not 500', async () => {
    for (const url of ['/v1/queues/ingest/pause', '/v1/queues/embed/retry-failed']) {
      const response = await inject('POST', url, {});
      expect(response.status, `${url}: ${response.text}`).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
    }
  });

  let gateId: string;

  it('a JSON submit: 503 with the video id and Retry-After, the row left queued', async () => {
    const response = await inject('POST', '/v1/videos', { uri: 'footage/gate.mp4', camera: 'gate' });
    expect(response.status, response.text).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(/^redis: unreachable/),
      videoId: expect.any(String),
      status: 'queued',
      queued: false,
    });
    expect(absolutePathsIn(response.text, root)).toEqual([]);
    gateId = String(response.body.videoId);
    expect((await env.db.repos.videos.get(gateId))?.status).toBe('queued');
    // A client retrying during the outage gets the same id.
    const again = await inject('POST', '/v1/videos', { uri: 'footage/gate.mp4' });
    expect(again).toMatchObject({ status: 503, body: { videoId: gateId, queued: false } });
  });

  it('a multipart upload: 503 with the video id, the file kept for its row', async () => {
    const before = await incoming();
    const [payload, headers] = await uploadOf('door.mp4');
    const response = await inject('POST', '/v1/videos', payload, headers);
    expect(response.status, response.text).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({ videoId: expect.any(String), status: 'queued', queued: false });
    const row = await env.db.repos.videos.get(String(response.body.videoId));
    expect(row?.status).toBe('queued');
    const kept = (await incoming()).filter((name) => !before.includes(name));
    expect(kept).toHaveLength(1);
    expect(row?.sourceUri).toBe(join(root, 'uploads', 'incoming', kept[0] ?? ''));
  });

  it('still serves what needs only PostgreSQL', async () => {
    expect((await inject('GET', '/v1/videos')).status).toBe(200);
    expect((await inject('GET', '/v1/events')).status).toBe(200);
    expect((await inject('GET', '/v1/cameras')).status).toBe(200);
  });

  it('no route answers 500 meanwhile; every 503 says why and when to retry', async () => {
    const id = gateId;
    const requests: [string, string, unknown?][] = [
      ['GET', '/healthz'],
      ['GET', `/v1/videos/${id}`],
      ['GET', `/v1/videos/${id}/scores`],
      ['POST', `/v1/videos/${id}/rescore`, {}],
      ['GET', '/v1/events?camera=gate'],
      ['GET', '/v1/events/1'],
      ['GET', '/v1/events/1/thumbnail'],
      ['POST', '/v1/queues/aggregate/resume', {}],
      ['PUT', '/v1/cameras/gate', { weight: 120 }],
      ['GET', '/docs/json'],
      ['GET', '/admin/queues/api/queues'],
    ];
    for (const [method, url, payload] of requests) {
      const response = await api.app.inject({
        method: method as 'GET',
        url,
        headers: auth(),
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      const status = response.statusCode;
      expect(status < 500 || status === 503, `${method} ${url}: ${status} ${response.body}`).toBe(true);
      expect(absolutePathsIn(response.body, root)).toEqual([]);
      if (response.statusCode === 503) {
        expect(response.headers['retry-after'], url).toMatch(/^\d+$/);
        expect(response.json(), url).toMatchObject({ message: 'redis: unreachable' });
      }
    }
  });

  it('once Redis is back, the same submit queues the recorded video', async () => {
    await proxy.start();
    await waitFor(
      'redis connection back',
      async () => api.ctx.queueConnection.status,
      (status) => status === 'ready',
      15_000,
    );
    const response = await inject('POST', '/v1/videos', { uri: 'footage/gate.mp4' });
    expect(response).toMatchObject({ status: 200, body: { videoId: gateId, created: false, status: 'queued' } });
    expect(await api.ctx.queues.ingest.getJobState(jobIds.ingest(gateId))).not.toBe('unknown');
    expect((await inject('GET', '/v1/queues')).status).toBe(200);
  }, 30_000);
});

describe('Redis unreachable since the API started', () => {
  let api: TestApi;
  const inject = client(() => api);

  beforeAll(async () => {
    api = await openApi(await sharedConfig({ VAD_REDIS_URL: 'redis://127.0.0.1:1' }), env.logger);
  });

  afterAll(async () => {
    await api?.close();
  });

  it('/readyz and the queue routes answer 503 at once instead of waiting on the connection', async () => {
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ ready: false, checks: { redis: 'unreachable', postgres: 'ok' } });
    for (const url of ['/v1/queues', '/metrics']) {
      const started = Date.now();
      const response = await inject('GET', url);
      expect(response.status, url).toBe(503);
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });

  it('a submit records the video and answers 503 with its id within the queueing timeout', async () => {
    const started = Date.now();
    const json = await inject('POST', '/v1/videos', { uri: 'footage/yard.mp4' });
    expect(json.status, json.text).toBe(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(json.headers['retry-after']).toMatch(/^\d+$/);
    expect(json.body).toMatchObject({ videoId: expect.any(String), status: 'queued', queued: false });
    // The reconciler queues the row once Redis answers.
    expect((await env.db.repos.videos.get(String(json.body.videoId)))?.status).toBe('queued');
  }, 20_000);
});

describe('PostgreSQL down', () => {
  it('/readyz says postgres: unreachable; a listing answers 503, without hosts or library text', async () => {
    const noDb = changedConfig(env, { VAD_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/vad' });
    const down = await openApi(noDb, env.logger);
    try {
      const ready = await down.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ ready: false, checks: { redis: 'ok', postgres: 'unreachable' } });
      const list = await down.app.inject({ method: 'GET', url: '/v1/videos', headers: auth() });
      expect(list.statusCode).toBe(503);
      expect(list.headers['retry-after']).toMatch(/^\d+$/);
      expect(list.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'postgres: unreachable' });
    } finally {
      await down.close();
      await rm(noDb.storage.root, { recursive: true, force: true });
    }
  });
});
