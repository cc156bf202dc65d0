import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageBatcher, resolveModelPaths, resolveModelSpec } from '@vad/clip';
import { type Config, createLogger } from '@vad/config';
import { videos } from '@vad/db';
import { SearchError, type SearchResult, type SearchService } from '@vad/search';
import {
  colourTimeline,
  createTestConfig,
  createTestDatabase,
  ensureTinyModel,
  generateIncidentVideo,
  type Rgb,
  seedEmbeddedVideo,
  seedScoredVideo,
  type TestDatabase,
} from '@vad/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSearchContext, pipelineConfigOf, type SearchContext } from '../src/index.js';

const SIZE = 224;
const GREY: Rgb = [128, 128, 128];
const ORANGE: Rgb = [255, 110, 0];
const GREEN: Rgb = [40, 200, 40];

const timeline = (seconds: number, spans: { from: number; to: number; colour: Rgb }[]) =>
  colourTimeline(seconds, spans, GREY);

let database: TestDatabase;
let config: Config;
let search: SearchContext;
let batcher: ImageBatcher;
/** Video ids by name, and the dock incident's event id. */
const ids: Record<string, string> = {};
let dockEvent: number;

/** A finished video of `camera` whose sampled frames (1 per second) have the tiny model's embeddings of `colours`. */
async function seed(
  name: string,
  camera: string,
  recordedAt: string,
  colours: Rgb[],
  options: { sourceUri?: string; event?: { from: number; to: number } } = {},
): Promise<void> {
  const { videoId } = await seedEmbeddedVideo(database.repos, {
    camera,
    recordedAt: new Date(recordedAt),
    colours,
    embed: (frames, count) => batcher.embed(frames, count),
    model: 'vad-test-tiny',
    pipelineConfig: pipelineConfigOf(config),
    ...(options.sourceUri ? { sourceUri: options.sourceUri } : {}),
    events: options.event
      ? [
          {
            startMs: options.event.from * 1000,
            endMs: options.event.to * 1000,
            peakMs: ((options.event.from + options.event.to) / 2) * 1000,
            startAt: null,
            endAt: null,
            peakScore: 0.9,
            label: 'Arson',
            thumbnailPath: null,
          },
        ]
      : [],
  });
  ids[name] = videoId;
}

const first = (result: SearchResult) => result.moments[0];

beforeAll(async () => {
  database = await createTestDatabase();
  config = createTestConfig({
    databaseUrl: database.url,
    redisUrl: 'redis://127.0.0.1:6379',
    prefix: '{vad-search-test}',
    env: { VAD_MODEL: 'vad-test-tiny' },
  });
  await ensureTinyModel(config.models.dir);
  const spec = resolveModelSpec('vad-test-tiny', config.models.dir);
  batcher = await ImageBatcher.start({
    modelPath: resolveModelPaths(config.models.dir, 'vad-test-tiny', spec, ['image']).image,
    provider: 'cpu',
    threads: 1,
    graphOptimization: 'all',
    inputSize: SIZE,
    mean: spec.mean,
    std: spec.std,
    names: spec.tensors.image,
    embeddingSize: spec.embeddingSize,
    batchSize: 16,
    maxWaitMs: 5,
  });
  search = createSearchContext(config, database.repos, createLogger({ log: { level: 'silent' } }, 'test'));
  const source = await generateIncidentVideo(join(config.storage.root, 'dock.mp4'), {
    durationS: 40,
    from: 12,
    to: 20,
  });
  // dock, night 1: the fire from 12 to 20 s (a real file: thumbnails are made from it).
  await seed('dock1', 'dock', '2026-11-28T22:00:00Z', timeline(40, [{ from: 12, to: 20, colour: ORANGE }]), {
    sourceUri: source,
    event: { from: 12, to: 20 },
  });
  // gate, the same night: another view of a fire, 30 to 36 s; and a fight (green) 5 to 8 s.
  await seed(
    'gate1',
    'gate',
    '2026-11-28T22:10:00Z',
    timeline(40, [
      { from: 5, to: 8, colour: GREEN },
      { from: 30, to: 36, colour: ORANGE },
    ]),
  );
  // dock, night 2: nothing happens.
  await seed('dock2', 'dock', '2026-11-29T22:00:00Z', timeline(40, []));
  const events = await database.repos.scoring.findEvents({ order: 'score', limit: 10 });
  dockEvent = events.find((e) => e.videoId === ids.dock1)?.id as number;
}, 120_000);

afterAll(async () => {
  await search?.close();
  await batcher?.close();
  await database?.destroy();
});

describe('search by text (vad-test-tiny: embeddings follow colour)', () => {
  it('finds the fire as the first moment, spanning the incident, far above its camera', async () => {
    const result = await search.service.search({ text: 'fire' });
    expect(result.method).toBe('exact');
    expect(result.model).toBe('vad-test-tiny');
    expect(result.videosSearched).toBe(3);
    expect(result.framesSearched).toBe(120);
    const top = first(result);
    expect(top).toMatchObject({ videoId: ids.dock1, camera: 'dock', startMs: 12_000, endMs: 20_000, frames: 8 });
    expect(top?.startAt?.toISOString()).toBe('2026-11-28T22:00:12.000Z');
    expect(top?.relativeScore).toBeGreaterThan(2);
    // The other fire is the next moment; the grey frames score far below both.
    expect(result.moments[1]).toMatchObject({ videoId: ids.gate1, startMs: 30_000, endMs: 36_000 });
    expect(result.moments[2]?.score ?? 0).toBeLessThan(top?.score ?? 0);
    expect(result.cameras.map((c) => c.camera).sort()).toEqual(['dock', 'gate']);
  });

  it('a different text finds a different moment (the fight)', async () => {
    const top = first(await search.service.search({ text: 'people fighting' }));
    expect(top).toMatchObject({ videoId: ids.gate1, startMs: 5000, endMs: 8000 });
  });

  it('filters by camera and time, and pages', async () => {
    const gate = await search.service.search({ text: 'fire', camera: 'gate' });
    expect(new Set(gate.moments.map((m) => m.camera))).toEqual(new Set(['gate']));
    expect(first(gate)).toMatchObject({ videoId: ids.gate1, startMs: 30_000 });

    // Until 22:00:15 on night 1: the dock fire's first three seconds only, the gate video not yet recording its fire.
    const early = await search.service.search({
      text: 'fire',
      since: new Date('2026-11-28T21:00:00Z'),
      until: new Date('2026-11-28T22:00:15Z'),
    });
    expect(first(early)).toMatchObject({ videoId: ids.dock1, startMs: 12_000, endMs: 15_000 });
    expect(early.videosSearched).toBe(1);
    const night2 = await search.service.search({ text: 'fire', since: new Date('2026-11-29T12:00:00Z') });
    expect(night2.moments.every((m) => m.videoId === ids.dock2)).toBe(true);

    const page1 = await search.service.search({ text: 'fire', limit: 2 });
    const page2 = await search.service.search({ text: 'fire', limit: 2, offset: 2 });
    expect(page1.moments.map((m) => m.rank)).toEqual([1, 2]);
    expect(page1.nextOffset).toBe(2);
    expect(page2.moments.map((m) => m.rank)).toEqual([3, 4]);
    const both = await search.service.search({ text: 'fire', limit: 4 });
    expect([...page1.moments, ...page2.moments].map((m) => [m.videoId, m.startMs])).toEqual(
      both.moments.map((m) => [m.videoId, m.startMs]),
    );
  });

  it('makes the best frame a thumbnail on demand, once, and none where the source is not a file', async () => {
    const result = await search.service.search({ text: 'fire', thumbnails: true, limit: 2 });
    const [dock, gate] = result.moments;
    expect(dock?.thumbnailPath).toBe(join('thumbnails', ids.dock1 as string, 'frames', `${dock?.bestFrame}.jpg`));
    const file = join(config.storage.root, dock?.thumbnailPath as string);
    const made = (await stat(file)).mtimeMs;
    expect(gate?.thumbnailPath).toBeNull();
    const again = await search.service.search({ text: 'fire', thumbnails: true, limit: 1 });
    expect(first(again)?.thumbnailPath).toBe(dock?.thumbnailPath);
    expect((await stat(file)).mtimeMs).toBe(made);
  });

  it('caches the text embeddings in the database', async () => {
    await search.service.search({ text: 'smoke' });
    const cached = await database.repos.textEmbeddings.getMany('vad-test-tiny', ['a surveillance video of smoke']);
    expect(cached.size).toBe(1);
  });
});

describe('search by an event (look-alike)', () => {
  it('finds the same incident in another video, leaving the event itself out', async () => {
    const result = await search.service.search({ likeEvent: dockEvent });
    expect(result.query).toEqual({ likeEvent: dockEvent });
    expect(first(result)).toMatchObject({ videoId: ids.gate1, startMs: 30_000, endMs: 36_000 });
    expect(result.moments.some((m) => m.videoId === ids.dock1 && m.startMs < 20_000 && m.endMs > 12_000)).toBe(false);
  });
});

describe('bad input gets a clear error', () => {
  const error = (input: Parameters<SearchService['search']>[0]) =>
    search.service.search(input).then(
      () => undefined,
      (e: unknown) => e as SearchError,
    );

  it('empty, over-long and too-many-token texts; both or neither of text and event', async () => {
    expect(await error({ text: '   ' })).toMatchObject({ kind: 'bad-input', message: 'the search text is empty' });
    expect((await error({ text: 'x'.repeat(301) }))?.message).toMatch(/longer than 300 characters/);
    const tokens = await error({ text: Array(74).fill('big').join(' ') });
    expect(tokens).toBeInstanceOf(SearchError);
    expect(tokens?.message).toMatch(/too long for the model: 74 tokens, and the model reads at most \d+/);
    expect((await error({}))?.message).toMatch(/either a search text or an event/);
    expect((await error({ text: 'fire', likeEvent: 1 }))?.message).toMatch(/either a search text or an event/);
  });

  it('unknown event, unknown camera, an event whose embeddings retention removed', async () => {
    expect(await error({ likeEvent: 999_999 })).toMatchObject({ kind: 'not-found', message: 'no event 999999' });
    expect(await error({ text: 'fire', camera: 'roof' })).toMatchObject({ kind: 'not-found' });
    const other = await seedScoredVideo(database.repos, {
      camera: 'yard',
      pipelineConfig: pipelineConfigOf(config),
      durationMs: 10_000,
      events: [
        {
          startMs: 0,
          endMs: 5000,
          peakMs: 2000,
          startAt: null,
          endAt: null,
          peakScore: 0.8,
          label: 'Arson',
          thumbnailPath: null,
        },
      ],
    });
    await database.db
      .update(videos)
      .set({ embeddingsRemovedAt: new Date('2026-11-20T12:00:00Z') })
      .where(eq(videos.id, other.videoId));
    const events = await database.repos.scoring.findEvents({ order: 'score', limit: 10, camera: 'yard' });
    const gone = await error({ likeEvent: events[0]?.id as number });
    expect(gone).toMatchObject({ kind: 'gone' });
    expect(gone?.message).toMatch(/removed by retention on 2026-11-20/);
    // And a text search says how many videos in scope it could not look at.
    const result = await search.service.search({ text: 'fire', camera: 'yard' });
    expect(result.excluded.embeddingsRemoved).toBe(1);
    expect(result.moments).toEqual([]);
  });
});

describe('the nearest-neighbour index', () => {
  it('is built from the stored vectors and gives the same first moments as comparing with every frame', async () => {
    // Past 0 frames every search uses the index (when one was built).
    const indexed = createSearchContext(
      { ...config, search: { ...config.search, exactMaxFrames: 0 } },
      database.repos,
      createLogger({ log: { level: 'silent' } }, 'test'),
    );
    const { indexes } = indexed;
    const unbuilt = await indexed.service.search({ text: 'fire', limit: 3 });
    expect(unbuilt.method).toBe('exact');
    // The scheduler's hourly pass builds none for 120 frames (exact search is fast there)...
    expect(await indexes.maintain('vad-test-tiny', 1000)).toBeUndefined();
    expect(await indexes.maintain('vad-test-tiny', 100)).toMatchObject({ added: 3 });
    const built = await indexes.update('vad-test-tiny', { rebuild: true });
    expect(built).toMatchObject({ added: 3, removed: 0, videos: 3, rebuilt: true });
    // Solid colours: the stored vectors of a video repeat, each stored frame is indexed.
    expect(built.vectors).toBe(120);
    expect(await indexes.update('vad-test-tiny')).toMatchObject({ added: 0, removed: 0 });
    // ...and keeps one up to date once it exists, however few the frames.
    expect(await indexes.maintain('vad-test-tiny', 1000)).toMatchObject({ added: 0, videos: 3 });

    const exact = await search.service.search({ text: 'fire', limit: 3 });
    const viaIndex = await indexed.service.search({ text: 'fire', limit: 3 });
    expect(viaIndex.method).toBe('index');
    expect(viaIndex.moments.slice(0, 2).map((m) => [m.videoId, m.startMs, m.endMs])).toEqual(
      exact.moments.slice(0, 2).map((m) => [m.videoId, m.startMs, m.endMs]),
    );
    const like = await indexed.service.search({ likeEvent: dockEvent });
    expect(first(like)).toMatchObject({ videoId: ids.gate1, startMs: 30_000 });

    // A video no longer searchable leaves the index on the next update.
    await database.db
      .update(videos)
      .set({ status: 'failed' })
      .where(eq(videos.id, ids.dock2 as string));
    expect(await indexes.update('vad-test-tiny')).toMatchObject({ added: 0, removed: 1, videos: 2 });
    await database.db
      .update(videos)
      .set({ status: 'done' })
      .where(eq(videos.id, ids.dock2 as string));
    // A video the index lacks is still searched, exactly, beside it.
    await indexes.update('vad-test-tiny', { rebuild: true });
    await indexed.close();
  });
});
