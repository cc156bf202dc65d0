import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, createApiToken, type Logger } from '@vad/config';
import { createMaintenanceQueue } from '@vad/queue';
import { pipelineConfigOf, startRoles, startScheduler } from '@vad/runtime';
import {
  createTestConfig,
  createTestEnvironment,
  generateIncidentVideo,
  generateVideo,
  TEST_QUEUE_BACKEND,
  type TestDatabase,
  type TestEnvironment,
  waitFor,
  waitForCompleted,
  writeTextAsVideo,
} from '@vad/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, buildApp, createApiContext } from '../src/index.js';

const admin = createApiToken('ops', 'admin');
const reader = createApiToken('grafana', 'read');

const settings = () => ({
  VAD_SEGMENT_FRAMES: '16',
  VAD_API_TOKENS: `${admin.entry},${reader.entry}`,
  VAD_JOB_ATTEMPTS: '2',
});

let env: TestEnvironment;
let logger: Logger;
let db: TestDatabase;
let config: Config;
let ctx: ApiContext;
let app: FastifyInstance;
let base: string;
let fixtures: string;

/** The test's configuration with some variables changed (a second context on the same database and prefix). */
function testConfig(changed: Record<string, string>): Config {
  return createTestConfig({
    databaseUrl: db.url,
    redisUrl: env.redis.url,
    prefix: env.redis.prefix,
    env: { VAD_MODEL: 'vad-test-tiny', VAD_EXECUTION_PROVIDER: 'cpu', ...settings(), ...changed },
  });
}

const auth = (token = admin.token) => ({ authorization: `Bearer ${token}` });

async function api<T = Record<string, unknown>>(
  method: string,
  url: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers: options.token === null ? {} : auth(options.token),
    ...(options.body === undefined ? {} : { payload: options.body as Record<string, unknown> }),
  });
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    body: (type.includes('json') ? response.json() : response.body) as T,
    headers: response.headers,
  };
}

/** A real multipart upload over HTTP (the server streams it to disk). */
async function upload(path: string, fields: Record<string, string> = {}, target = base, token = admin.token) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([await readFile(path)]), path.split('/').pop());
  const response = await fetch(`${target}/v1/videos`, { method: 'POST', body: form, headers: auth(token) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const uploads = () => readdir(join(config.storage.root, 'uploads', 'incoming')).catch(() => [] as string[]);
const videoStatus = async (id: string) => (await api<{ status: string }>('GET', `/v1/videos/${id}`)).body;

beforeAll(async () => {
  env = await createTestEnvironment({ env: settings() });
  ({ db, config, logger } = env);
  fixtures = join(config.storage.root, 'fixtures');
  await mkdir(fixtures, { recursive: true });
  await generateIncidentVideo(join(fixtures, 'fire.mp4'), { durationS: 24, from: 10, to: 16 });
  await generateVideo(join(fixtures, 'plain.mp4'), { durationS: 6, source: 'color=c=gray' });
  await writeTextAsVideo(join(fixtures, 'notes.mp4'));
  ctx = createApiContext(config, logger);
  await ctx.listening;
  app = await buildApp(ctx);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await env?.destroy();
});

describe('health', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect(await api('GET', '/healthz', { token: null })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await api('GET', '/readyz', { token: null })).toMatchObject({
      status: 200,
      // On the postgres queue backend (VAD_TEST_QUEUE_BACKEND=postgres) Redis is not used.
      body: { ready: true, checks: { redis: TEST_QUEUE_BACKEND === 'redis' ? 'ok' : 'unused', postgres: 'ok' } },
    });
  });

  it.runIf(TEST_QUEUE_BACKEND === 'redis')(
    'turns unready (503) when Redis is unreachable, while /healthz stays up',
    async () => {
      const broken = testConfig({ VAD_REDIS_URL: 'redis://127.0.0.1:1' });
      const brokenContext = createApiContext(broken, logger);
      const brokenApp = await buildApp(brokenContext);
      try {
        const ready = await brokenApp.inject({ method: 'GET', url: '/readyz' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({ ready: false, checks: { postgres: 'ok' } });
        expect(ready.json().checks.redis).not.toBe('ok');
        expect((await brokenApp.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      } finally {
        await brokenApp.close();
        await brokenContext.close();
        await rm(broken.storage.root, { recursive: true, force: true });
      }
    },
  );
});

describe('auth', () => {
  const id = randomUUID();
  const routes: [string, string, 'read' | 'admin'][] = [
    ['GET', '/v1/videos', 'read'],
    ['GET', `/v1/videos/${id}`, 'read'],
    ['GET', `/v1/videos/${id}/scores`, 'read'],
    ['POST', `/v1/videos/${id}/rescore`, 'admin'],
    ['POST', '/v1/videos', 'admin'],
    ['GET', '/v1/events', 'read'],
    ['GET', '/v1/events/1', 'read'],
    ['GET', '/v1/events/1/thumbnail', 'read'],
    ['GET', '/v1/queues', 'read'],
    ['POST', '/v1/queues/ingest/pause', 'admin'],
    ['POST', '/v1/queues/ingest/resume', 'admin'],
    ['POST', '/v1/queues/embed/retry-failed', 'admin'],
    ['GET', '/metrics', 'read'],
    ['GET', '/v1/cameras', 'read'],
    ['PUT', '/v1/cameras/gate', 'admin'],
    ['GET', '/docs/json', 'read'],
    ['GET', '/admin/queues', 'admin'],
  ];

  it.each(routes)('%s %s: 401 without or with a wrong token, 403 below scope %s', async (method, url, scope) => {
    const none = await api(method, url, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBeDefined();
    expect((await api(method, url, { token: 'vad_not-a-token' })).status).toBe(401);
    const body = method === 'PUT' ? { weight: 150 } : method === 'POST' ? {} : undefined;
    const asReader = await api(method, url, { token: reader.token, body });
    if (scope === 'admin') {
      expect(asReader.status).toBe(403);
      expect(asReader.body).toMatchObject({ message: expect.stringMatching(/scope read; this needs admin/) });
    } else {
      expect([401, 403]).not.toContain(asReader.status);
    }
    const asAdmin = await api(method, url, { body });
    expect([401, 403]).not.toContain(asAdmin.status);
  });

  it('cannot reach admin pages with a read token through an encoded path', async () => {
    for (const url of ['/%61dmin/queues', '/admin/%71ueues', '/admin//queues', '/admin/queues/api/queues']) {
      const response = await api('GET', url, { token: reader.token });
      expect([403, 404], url).toContain(response.status);
    }
  });

  it('lets a browser in to Bull Board and the docs with Basic auth carrying the token', async () => {
    const basic = `Basic ${Buffer.from(`ops:${admin.token}`).toString('base64')}`;
    const board = await app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: basic } });
    expect(board.statusCode).toBe(200);
    expect(board.body).toContain('<html');
    const challenge = await app.inject({ method: 'GET', url: '/admin/queues' });
    expect(challenge.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it("serves Bull Board's own API on the queue backend in use", async () => {
    const { status, body } = await api<{ queues: { name: string; counts: Record<string, number> }[] }>(
      'GET',
      '/admin/queues/api/queues?activeQueue=embed&status=latest&page=1',
    );
    expect(status).toBe(200);
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['aggregate', 'embed', 'ingest']);
    for (const queue of body.queues) expect(typeof queue.counts.completed).toBe('number');
  });

  it('documents every route in OpenAPI', async () => {
    const { body } = await api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/docs/json');
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/videos',
        '/v1/videos/{id}',
        '/v1/videos/{id}/scores',
        '/v1/videos/{id}/rescore',
        '/v1/events',
        '/v1/events/{id}',
        '/v1/events/{id}/thumbnail',
        '/v1/queues',
        '/v1/queues/{name}/retry-failed',
        '/metrics',
        '/healthz',
        '/readyz',
      ]),
    );
  });
});

describe('videos, scores and events through the API', () => {
  let videoId: string;

  it('accepts an upload (201), says a second upload of it is the same video (200), keeps one file', async () => {
    env.track(await startRoles(['ingest', 'embed', 'aggregate'], config, logger));
    const first = await upload(join(fixtures, 'fire.mp4'), { camera: 'gate', recordedAt: '2026-11-28T23:00:00Z' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ created: true, status: 'queued', durationMs: 24_000 });
    videoId = String(first.body.videoId);
    const again = await upload(join(fixtures, 'fire.mp4'), { camera: 'gate' });
    expect(again).toMatchObject({ status: 200, body: { videoId, created: false } });
    expect(await uploads()).toHaveLength(1);
  });

  it('shows progress per stage until the video is done', async () => {
    const done = await waitFor(
      'video done',
      () => videoStatus(videoId),
      (v) => v.status === 'done' || v.status === 'failed',
      90_000,
    );
    expect(done).toMatchObject({
      status: 'done',
      camera: 'gate',
      error: null,
      width: 320,
      recordedAt: '2026-11-28T23:00:00.000Z',
      progress: {
        ingest: { state: 'completed', percent: 100, framesDecoded: 48 },
        embed: { percent: 100, segmentsEmbedded: 3, segmentsWritten: 3 },
        aggregate: { state: 'completed', percent: 100 },
      },
    });
    const list = await api<{ items: { id: string }[] }>('GET', '/v1/videos?camera=gate&status=done');
    expect(list.body.items.map((v) => v.id)).toEqual([videoId]);
  });

  it("serves the video's clip timeline and its event, with a thumbnail", async () => {
    const scores = await api<{
      clips: { anomalyScore: number; validFrames: number }[];
      events: { id: number; label: string; startAt: string; thumbnailUrl: string }[];
      run: { current: boolean };
    }>('GET', `/v1/videos/${videoId}/scores`);
    expect(scores.status).toBe(200);
    expect(scores.body.run.current).toBe(true);
    expect(scores.body.clips.length).toBeGreaterThan(3);
    expect(scores.body.events).toHaveLength(1);
    const event = scores.body.events[0]!;
    expect(event.label).toMatch(/Arson|Explosion/);
    expect(Date.parse(event.startAt)).toBeGreaterThanOrEqual(Date.parse('2026-11-28T23:00:08Z'));

    const listed = await api<{ items: { id: number }[] }>(
      'GET',
      '/v1/events?camera=gate&since=2026-11-28T22:00:00Z&until=2026-11-29T06:00:00Z&minScore=0.5',
    );
    expect(listed.body.items.map((e) => e.id)).toEqual([event.id]);
    expect((await api('GET', `/v1/events/${event.id}`)).body).toMatchObject({ id: event.id, videoId, camera: 'gate' });
    const thumbnail = await app.inject({ method: 'GET', url: event.thumbnailUrl, headers: auth(reader.token) });
    expect(thumbnail.statusCode).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/jpeg');
    expect(thumbnail.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });

  it('rescores with other prompts (202), and the new run becomes the current one', async () => {
    const before = (await videoStatus(videoId)) as unknown as { currentRunId: string };
    const promptSet = {
      name: 'gate-fire',
      templates: ['a photo of {}'],
      normal: 'normal',
      classes: { normal: ['a plain grey scene'], fire: ['fire', 'flames'] },
    };
    const rescore = await api('POST', `/v1/videos/${videoId}/rescore`, { body: { promptSet, threshold: 0.6 } });
    expect(rescore.status).toBe(202);
    expect(String(rescore.body.jobId)).toMatch(/^rescore\./);
    await waitFor(
      'new current run',
      () => videoStatus(videoId),
      (v) => (v as unknown as { currentRunId: string }).currentRunId !== before.currentRunId && v.status === 'done',
      60_000,
    );
    const scores = await api<{ run: { promptSet: string }; runs: unknown[]; events: { label: string }[] }>(
      'GET',
      `/v1/videos/${videoId}/scores`,
    );
    expect(scores.body.run.promptSet).toBe('gate-fire');
    expect(scores.body.runs).toHaveLength(2);
    expect(scores.body.events.map((e) => e.label)).toEqual(['fire']);
    const old = await api('GET', `/v1/videos/${videoId}/scores?run=${before.currentRunId}`);
    expect(old.body).toMatchObject({ run: { id: before.currentRunId, current: false } });
  });

  it('rejects a rescore of a video that is not finished (409) and a malformed prompt set (400)', async () => {
    const bad = await api('POST', `/v1/videos/${videoId}/rescore`, { body: { promptSet: { name: 'x' } } });
    expect(bad.status).toBe(400);
    expect(String(bad.body.field)).toMatch(/^body\.promptSet/);
    await ctx.queues.ingest.pause();
    try {
      const queued = await upload(join(fixtures, 'plain.mp4'));
      const conflict = await api('POST', `/v1/videos/${String(queued.body.videoId)}/rescore`, { body: {} });
      expect(conflict.status).toBe(409);
      expect(conflict.body.message).toMatch(/is queued: only a finished video can be rescored/);
    } finally {
      await ctx.queues.ingest.resume();
    }
  });
});

describe('bad input', () => {
  it('a file that is not a video: 422 with the reason, nothing queued, nothing left on disk', async () => {
    const filesBefore = await uploads();
    const jobsBefore = await ctx.queues.ingest.getJobCountByTypes(
      'waiting',
      'active',
      'completed',
      'failed',
      'prioritized',
    );
    const response = await upload(join(fixtures, 'notes.mp4'));
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ field: 'file', message: expect.stringMatching(/not a readable video file/) });
    expect(await uploads()).toEqual(filesBefore);
    expect(await ctx.queues.ingest.getJobCountByTypes('waiting', 'active', 'completed', 'failed', 'prioritized')).toBe(
      jobsBefore,
    );
  });

  it('too large: 413, and the partial file is removed', async () => {
    const small = testConfig({ VAD_UPLOAD_MAX_MB: '1' });
    const smallContext = createApiContext({ ...small, storage: config.storage }, logger);
    const smallApp = await buildApp(smallContext);
    const url = await smallApp.listen({ host: '127.0.0.1', port: 0 });
    try {
      const big = join(fixtures, 'big.mp4');
      await writeFile(big, Buffer.alloc(3 * 1024 * 1024, 7));
      const filesBefore = await uploads();
      const response = await upload(big, {}, url);
      expect(response.status).toBe(413);
      expect(response.body.message).toMatch(/larger than the limit/);
      expect(await uploads()).toEqual(filesBefore);
    } finally {
      await smallApp.close();
      await smallContext.close();
      await rm(small.storage.root, { recursive: true, force: true });
    }
  });

  it('a uri outside the storage root or with "..": 400; a missing file: 422', async () => {
    for (const uri of ['../etc/passwd', 'fixtures/../../x.mp4', '/etc/hosts']) {
      const response = await api('POST', '/v1/videos', { body: { uri } });
      expect(response.status).toBe(400);
      expect(response.body.field).toBe('body.uri');
    }
    const missing = await api('POST', '/v1/videos', { body: { uri: 'fixtures/nothing-here.mp4' } });
    expect(missing).toMatchObject({ status: 422, body: { message: 'no such file' } });
    const registered = await api('POST', '/v1/videos', { body: { uri: 'fixtures/plain.mp4', camera: 'lobby' } });
    expect(registered.status).toBe(200); // uploaded before, in the rescore test: the same video
  });

  it('malformed values: 400 naming the field; unknown ids: 404', async () => {
    const cases: [string, string][] = [
      ['/v1/events?minScore=2', 'querystring.minScore'],
      ['/v1/events?since=yesterday', 'querystring.since'],
      ['/v1/events?limit=0', 'querystring.limit'],
      ['/v1/events?order=random', 'querystring.order'],
      ['/v1/events?since=2026-11-29T00:00:00Z&until=2026-11-28T00:00:00Z', 'querystring.until'],
      ['/v1/events?cursor=bm9wZQ', 'cursor'],
      ['/v1/videos?status=lost', 'querystring.status'],
      ['/v1/videos/not-a-uuid', 'params.id'],
      ['/v1/events/abc', 'params.id'],
    ];
    for (const [url, field] of cases) {
      const response = await api('GET', url);
      expect(response.status, url).toBe(400);
      expect(response.body.field, url).toBe(field);
      expect(String(response.body.message), url).toContain(field);
    }
    expect((await api('GET', `/v1/videos/${randomUUID()}`)).status).toBe(404);
    expect((await api('GET', `/v1/videos/${randomUUID()}/scores`)).status).toBe(404);
    expect((await api('GET', '/v1/events/999999999')).status).toBe(404);
    expect((await api('POST', '/v1/queues/nope/pause', { body: {} })).status).toBe(400);
    expect((await api('GET', '/v1/nothing')).status).toBe(404);
  });
});

describe('cameras', () => {
  it("lists cameras with their videos' state, and sets a weight", async () => {
    const set = await api('PUT', '/v1/cameras/gate', { body: { weight: 250 } });
    expect(set).toMatchObject({ status: 200, body: { name: 'gate', weight: 250 } });
    expect((await api('PUT', '/v1/cameras/gate', { body: { weight: 0 } })).body.field).toBe('body.weight');
    const list = await api<{ items: { name: string; weight: number; done: number }[] }>('GET', '/v1/cameras');
    expect(list.body.items.find((c) => c.name === 'gate')).toMatchObject({ weight: 250, done: 1 });
  });
});

describe('keyset pagination', () => {
  it('neither skips nor repeats events while new ones arrive, by time and by score', async () => {
    const seedVideo = async (camera: string, recordedAt: Date, events: number) => {
      const cam = await db.repos.cameras.ensure(camera);
      const { video } = await db.repos.videos.insertOrGet({
        cameraId: cam.id,
        sourceUri: `/seed/${randomUUID()}.mp4`,
        sha256: randomUUID(),
        bytes: 1,
        durationMs: 3_600_000,
        recordedAt,
        model: 'vad-test-tiny',
        pipelineConfig: pipelineConfigOf(config),
        configHash: randomUUID(),
      });
      const runId = randomUUID();
      await db.repos.scoring.saveRun(
        { id: runId, videoId: video.id, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
        [],
        Array.from({ length: events }, (_, i) => ({
          startMs: i * 60_000,
          endMs: i * 60_000 + 5_000,
          peakMs: i * 60_000 + 2_000,
          startAt: new Date(recordedAt.getTime() + i * 60_000),
          endAt: new Date(recordedAt.getTime() + i * 60_000 + 5_000),
          // Ties on purpose: the id breaks them.
          peakScore: 0.5 + (i % 5) / 10,
          label: 'Fighting',
          thumbnailPath: null,
        })),
        cam.id,
        { markVideoDone: true },
      );
    };
    await seedVideo('paging', new Date('2026-10-01T22:00:00Z'), 25);

    for (const order of ['time', 'score'] as const) {
      const existing = await db.repos.scoring.findEvents({ camera: 'paging', order, limit: 1000 });
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `/v1/events?camera=paging&order=${order}&limit=10${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await api<{
          items: { id: number; startAt: string; peakScore: number }[];
          nextCursor: string | null;
        }>('GET', query);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((e) => e.id));
        cursor = page.body.nextCursor;
        // New footage scored between pages: newer events, which sort before the cursor.
        if (pages === 0) await seedVideo('paging', new Date(`2026-10-0${order === 'time' ? 2 : 3}T22:00:00Z`), 5);
        pages += 1;
      } while (cursor);
      // No row twice, every row that existed when paging began exactly once; new
      // rows appear only where they sort after the cursor (never by time, newest first).
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(existing.map((e) => e.id)));
      if (order === 'time') expect(seen).toHaveLength(existing.length);
      expect(pages).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('video pages', () => {
  it('pages through videos created within the same millisecond without skipping or repeating', async () => {
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        const { video } = await db.repos.videos.insertOrGet({
          sourceUri: `/seed/${randomUUID()}.mp4`,
          sha256: randomUUID(),
          bytes: 1,
          model: 'vad-test-tiny',
          pipelineConfig: pipelineConfigOf(config),
          configHash: 'paging',
          status: 'failed',
        });
        ids.push(video.id);
      }),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/videos?status=failed&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api<{ items: { id: string }[]; nextCursor: string | null }>('GET', url);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((v) => v.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    const forged = Buffer.from(JSON.stringify({ t: 'yesterday', id: randomUUID() })).toString('base64url');
    expect((await api('GET', `/v1/videos?cursor=${forged}`)).status).toBe(400);
  });
});

describe('queues', () => {
  it('reports counts, throughput, processing time, workers and backlog', async () => {
    const { body, status } = await api<{
      queues: {
        name: string;
        counts: Record<string, number>;
        workers: number;
        throughputPerMinute: { m15: number };
        processingMs: { samples: number; p95: number };
      }[];
      backlog: { videos: number; videoSecondsPerSecond: number | null };
    }>('GET', '/v1/queues');
    expect(status).toBe(200);
    expect(body.queues.map((q) => q.name)).toEqual(['ingest', 'embed', 'aggregate']);
    const embed = body.queues.find((q) => q.name === 'embed')!;
    expect(embed.counts.completed).toBeGreaterThanOrEqual(3);
    expect(embed.workers).toBeGreaterThanOrEqual(1);
    expect(embed.throughputPerMinute.m15).toBeGreaterThan(0);
    expect(embed.processingMs.samples).toBeGreaterThanOrEqual(3);
    expect(embed.processingMs.p95).toBeGreaterThan(0);
    expect(body.backlog.videoSecondsPerSecond).toBeGreaterThan(0);
  });

  it('pauses and resumes a queue', async () => {
    expect((await api('POST', '/v1/queues/aggregate/pause', { body: {} })).body).toEqual({
      queue: 'aggregate',
      isPaused: true,
    });
    const report = await api<{ queues: { name: string; isPaused: boolean }[] }>('GET', '/v1/queues');
    expect(report.body.queues.find((q) => q.name === 'aggregate')?.isPaused).toBe(true);
    expect((await api('POST', '/v1/queues/aggregate/resume', { body: {} })).body).toMatchObject({ isPaused: false });
  });

  it('shows why videos failed, and retry-failed sends them through again', async () => {
    const source = join(config.storage.root, 'cam', 'door.mp4');
    await mkdir(join(config.storage.root, 'cam'), { recursive: true });
    await generateVideo(source, { durationS: 4, source: 'color=c=gray' });
    await ctx.queues.ingest.pause();
    const submitted = await api('POST', '/v1/videos', { body: { uri: 'cam/door.mp4', camera: 'door' } });
    expect(submitted.status).toBe(201);
    const id = String(submitted.body.videoId);
    // The storage mount goes away before the night's run…
    await copyFile(source, `${source}.bak`);
    await rm(source);
    await ctx.queues.ingest.resume();
    const failed = await waitFor(
      'failed',
      () => videoStatus(id),
      (v) => v.status === 'failed',
      30_000,
    );
    expect((failed as unknown as { error: string }).error).toMatch(/no such file|No such file/i);
    const report = await api<{ queues: { name: string; failureReasons: { reason: string }[] }[] }>('GET', '/v1/queues');
    expect(report.body.queues.find((q) => q.name === 'ingest')?.failureReasons[0]?.reason).toMatch(/no such file/i);

    // …and is back in the morning: retry.
    await copyFile(`${source}.bak`, source);
    const retried = await api('POST', '/v1/queues/ingest/retry-failed', { body: {} });
    expect(retried.body).toMatchObject({ queue: 'ingest', videos: [id] });
    await waitFor(
      'done after retry',
      () => videoStatus(id),
      (v) => v.status === 'done',
      60_000,
    );
  });
});

describe('metrics', () => {
  it('serves a Prometheus scrape that parses, with the pipeline counters', async () => {
    // A retention run (the scheduler role) is counted too.
    const scheduler = await startScheduler(config, logger);
    const maintenance = createMaintenanceQueue(ctx.queueConnection);
    try {
      const retentionRun = await maintenance.add('retention', {});
      await waitForCompleted('retention ran', retentionRun);
      await new Promise((r) => setTimeout(r, 200)); // the completed event reaches the API's listener
    } finally {
      await maintenance.close();
      await scheduler.close();
    }
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: auth(reader.token) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = new Map<string, number>();
    for (const line of response.body.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      const match =
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
          line,
        );
      expect(match, line).not.toBeNull();
      samples.set(`${match?.[1]}${match?.[2] ?? ''}`, Number(match?.[3]));
    }
    expect(samples.get('vad_queue_jobs{queue="embed",state="completed"}')).toBeGreaterThanOrEqual(3);
    expect(samples.get('vad_frames_embedded_total')).toBeGreaterThanOrEqual(48);
    expect(samples.get('vad_video_seconds_processed_total')).toBeGreaterThanOrEqual(24);
    expect(samples.get('vad_job_duration_seconds_count{queue="embed",outcome="completed"}')).toBeGreaterThanOrEqual(3);
    expect(samples.get('vad_job_failures_total{queue="ingest"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('vad_inference_batch_frames_count')).toBeGreaterThanOrEqual(3);
    expect(samples.get('vad_queue_workers{queue="ingest"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('vad_retention_removed_total{kind="jobs"}')).toBeGreaterThanOrEqual(0);
    expect(samples.get('vad_retention_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});
