import { join } from 'node:path';
import { ImageBatcher, resolveModelPaths, resolveModelSpec } from '@vad/clip';
import { videos } from '@vad/db';
import { pipelineConfigOf } from '@vad/runtime';
import {
  colourTimeline,
  createTestEnvironment,
  generateIncidentVideo,
  type Rgb,
  seedEmbeddedVideo,
  type TestEnvironment,
} from '@vad/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absolutePathsIn, apiSettings, auth, json, openApi, reader, type TestApi } from './support.js';

/** GET /v1/search (read scope) and the thumbnails of its moments, over embeddings of the tiny test model. */
let env: TestEnvironment;
let api: TestApi;
let batcher: ImageBatcher;
const GREY: Rgb = [128, 128, 128];
const ORANGE: Rgb = [255, 110, 0];
/** A duller fire-like glow: the same kind of moment, scoring lower. */
const EMBER: Rgb = [210, 120, 70];
let dock: string;
let gate: string;
let dockEvent: number;

beforeAll(async () => {
  env = await createTestEnvironment({ env: apiSettings() });
  const spec = resolveModelSpec('vad-test-tiny', env.config.models.dir);
  batcher = await ImageBatcher.start({
    modelPath: resolveModelPaths(env.config.models.dir, 'vad-test-tiny', spec, ['image']).image,
    provider: 'cpu',
    threads: 1,
    graphOptimization: 'all',
    inputSize: 224,
    mean: spec.mean,
    std: spec.std,
    names: spec.tensors.image,
    embeddingSize: spec.embeddingSize,
    batchSize: 16,
    maxWaitMs: 5,
  });
  const common = {
    embed: (frames: Uint8Array, count: number) => batcher.embed(frames, count),
    model: 'vad-test-tiny',
    pipelineConfig: pipelineConfigOf(env.config),
  };
  const source = await generateIncidentVideo(join(env.config.storage.root, 'dock.mp4'), {
    durationS: 30,
    from: 10,
    to: 16,
  });
  dock = (
    await seedEmbeddedVideo(env.db.repos, {
      ...common,
      camera: 'dock',
      recordedAt: new Date('2026-11-28T22:00:00Z'),
      colours: colourTimeline(30, [{ from: 10, to: 16, colour: ORANGE }], GREY),
      sourceUri: source,
      events: [
        {
          startMs: 10_000,
          endMs: 16_000,
          peakMs: 13_000,
          startAt: null,
          endAt: null,
          peakScore: 0.9,
          label: 'Arson',
          thumbnailPath: null,
        },
      ],
    })
  ).videoId;
  gate = (
    await seedEmbeddedVideo(env.db.repos, {
      ...common,
      camera: 'gate',
      recordedAt: new Date('2026-11-28T23:00:00Z'),
      colours: colourTimeline(30, [{ from: 20, to: 25, colour: EMBER }], GREY),
    })
  ).videoId;
  dockEvent = (await env.db.repos.scoring.findEvents({ order: 'score', limit: 5, camera: 'dock' }))[0]?.id as number;
  api = await openApi(env.config, env.logger);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await batcher?.close();
  await env?.destroy();
});

const get = (url: string, token = reader.token) => api.app.inject({ method: 'GET', url, headers: auth(token) });

describe('GET /v1/search', () => {
  it('answers a reader with the incident first, its times, relative score and thumbnail URL', async () => {
    const response = await get('/v1/search?q=fire&limit=2');
    expect(response.statusCode).toBe(200);
    const body = json(response) as {
      method: string;
      moments: {
        videoId: string;
        startMs: number;
        endMs: number;
        startAt: string;
        relativeScore: number;
        thumbnailUrl: string;
      }[];
      nextOffset: number | null;
    };
    expect(body.method).toBe('exact');
    expect(body.moments[0]).toMatchObject({
      videoId: dock,
      startMs: 10_000,
      endMs: 16_000,
      startAt: '2026-11-28T22:00:10.000Z',
    });
    expect(body.moments[0]?.relativeScore).toBeGreaterThan(1);
    expect(body.moments[1]).toMatchObject({ videoId: gate, startMs: 20_000, endMs: 25_000 });
    expect(body.nextOffset).toBe(2);
    expect(absolutePathsIn(response.body, env.config.storage.root)).toEqual([]);

    const thumbnail = await get(body.moments[0]?.thumbnailUrl as string);
    expect(thumbnail.statusCode).toBe(200);
    expect(thumbnail.headers['content-type']).toBe('image/jpeg');
    expect(thumbnail.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // The gate video's source is not a file: no thumbnail, a clear answer.
    const none = await get(body.moments[1]?.thumbnailUrl as string);
    expect(none.statusCode).toBe(400);
    expect(json(none).message).toMatch(/could not be decoded/);
  });

  it('filters by camera and looks like an event, leaving the event itself out', async () => {
    const gateOnly = json(await get('/v1/search?q=fire&camera=gate')) as { moments: { camera: string }[] };
    expect(new Set(gateOnly.moments.map((m) => m.camera))).toEqual(new Set(['gate']));
    const like = json(await get(`/v1/search?likeEvent=${dockEvent}`)) as {
      moments: { videoId: string; startMs: number }[];
    };
    expect(like.moments[0]).toMatchObject({ videoId: gate, startMs: 20_000 });
  });

  it('bad input: 400 with the field, 404 for an unknown event or camera, 410 once retention removed the embeddings', async () => {
    const empty = await get('/v1/search?q=%20%20');
    expect(empty.statusCode).toBe(400);
    expect(json(empty)).toMatchObject({ message: 'the search text is empty', field: 'q' });
    const long = await get(`/v1/search?q=${'x'.repeat(301)}`);
    expect(long.statusCode).toBe(400);
    expect(json(long).message).toMatch(/longer than 300 characters/);
    const neither = await get('/v1/search');
    expect(neither.statusCode).toBe(400);
    expect(json(neither).message).toMatch(/either q .* or likeEvent/);
    expect((await get('/v1/search?likeEvent=987654')).statusCode).toBe(404);
    expect((await get('/v1/search?q=fire&camera=roof')).statusCode).toBe(404);
    expect((await get('/v1/search?q=fire&limit=101')).statusCode).toBe(400);
    await env.db.db
      .update(videos)
      .set({ embeddingsRemovedAt: new Date('2026-11-30T12:00:00Z') })
      .where(eq(videos.id, dock));
    const gone = await get(`/v1/search?likeEvent=${dockEvent}`);
    expect(gone.statusCode).toBe(410);
    expect(json(gone).message).toMatch(/removed by retention on 2026-11-30/);
    await env.db.db.update(videos).set({ embeddingsRemovedAt: null }).where(eq(videos.id, dock));
  });

  it('needs a token', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/v1/search?q=fire' })).statusCode).toBe(401);
  });
});
