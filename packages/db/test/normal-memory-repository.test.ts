import { randomBytes, randomUUID } from 'node:crypto';
import { hashPipelineConfig } from '@vad/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Camera,
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  dropDatabase,
  eventReviews,
  migrateDatabase,
  type Repositories,
} from '../src/index.js';

// @vad/testing depends on this package, so these tests make their own database.
const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const url = `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;

const pipeline = { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 16, clipStride: 8 };
let handle: DatabaseHandle;
let repos: Repositories;
let camera: Camera;
let other: Camera;

const addVideo = async (cameraId: number, recordedAt: Date | null, durationMs = 60_000) => {
  const sha256 = randomBytes(32).toString('hex');
  const { video } = await repos.videos.insertOrGet({
    sourceUri: `/footage/${sha256}.mp4`,
    sha256,
    bytes: 1000,
    model: 'm',
    pipelineConfig: pipeline,
    configHash: hashPipelineConfig(pipeline),
    cameraId,
    recordedAt,
    durationMs,
  });
  return video;
};

const feature = (...xs: number[]) => new Float32Array(xs);

beforeAll(async () => {
  await migrateDatabase(url);
  handle = createDatabase(url);
  repos = createRepositories(handle.db);
  camera = await repos.cameras.ensure('gate');
  other = await repos.cameras.ensure('yard');
});
afterAll(async () => {
  await handle.close();
  await dropDatabase(url);
});

describe('normal memory repository', () => {
  it('stores features exactly, updates a clip stored again, counts and clears by source', async () => {
    const video = await addVideo(camera.id, new Date('2026-11-01T22:00:00Z'));
    const memory = repos.normalMemory;
    await memory.add(camera.id, 'm', [
      { videoId: video.id, clipIndex: 0, source: 'normal-video', feature: feature(0.6, 0.8, Math.PI / 10) },
      { videoId: video.id, clipIndex: 1, source: 'normal-video', feature: feature(1, 0, 0) },
      { videoId: null, clipIndex: 7, source: 'history', feature: feature(0, 1, 0) },
    ]);
    await memory.add(camera.id, 'other-model', [
      { videoId: video.id, clipIndex: 0, source: 'history', feature: feature(0, 0, 1) },
    ]);
    // Clip 1 again: now a false alarm, with a new feature.
    await memory.add(camera.id, 'm', [
      { videoId: video.id, clipIndex: 1, source: 'false-alarm', feature: feature(0, 0, 1) },
    ]);
    const loaded = await memory.load(camera.id, 'm');
    expect(loaded.map((r) => [r.videoId, r.clipIndex, r.source])).toEqual([
      [video.id, 0, 'normal-video'],
      [video.id, 1, 'false-alarm'],
      [null, 7, 'history'],
    ]);
    expect([...loaded[0]!.feature]).toEqual([...feature(0.6, 0.8, Math.PI / 10)]);
    expect([...loaded[1]!.feature]).toEqual([0, 0, 1]);
    expect(await memory.load(other.id, 'm')).toEqual([]);
    expect(await memory.counts(camera.id)).toEqual([
      { model: 'm', source: 'false-alarm', count: 1 },
      { model: 'm', source: 'history', count: 1 },
      { model: 'm', source: 'normal-video', count: 1 },
      { model: 'other-model', source: 'history', count: 1 },
    ]);
    expect(await memory.clear(camera.id, { source: 'history', model: 'm' })).toBe(1);
    expect(await memory.clear(camera.id, { source: 'history' })).toBe(1);
    expect((await memory.counts(camera.id)).map((c) => c.source)).toEqual(['false-alarm', 'normal-video']);
    expect(await memory.clear(camera.id)).toBe(2);
    expect(await memory.counts(camera.id)).toEqual([]);
  });

  it('replaces a memory in one transaction: a failing replace leaves the old memory whole', async () => {
    const video = await addVideo(camera.id, null);
    const memory = repos.normalMemory;
    await memory.add(camera.id, 'n', [{ videoId: null, clipIndex: 0, source: 'history', feature: feature(1, 0) }]);
    await memory.replace(camera.id, [
      {
        model: 'm',
        rows: [
          { videoId: video.id, clipIndex: 0, source: 'normal-video', feature: feature(1, 0) },
          { videoId: video.id, clipIndex: 1, source: 'normal-video', feature: feature(0, 1) },
        ],
      },
    ]);
    await expect(
      memory.replace(
        camera.id,
        [
          { model: 'm', rows: [{ videoId: video.id, clipIndex: 5, source: 'history', feature: feature(1, 1) }] },
          // No such video: the foreign key fails the insert after the deletes.
          { model: 'o', rows: [{ videoId: randomUUID(), clipIndex: 0, source: 'history', feature: feature(1, 1) }] },
        ],
        {},
      ),
    ).rejects.toThrow();
    expect((await memory.load(camera.id, 'm')).map((r) => r.clipIndex)).toEqual([0, 1]);
    expect(await memory.load(camera.id, 'n')).toHaveLength(1);
    // With a clear of one source: that source goes from every model; the model given gets its rows.
    await memory.replace(
      camera.id,
      [{ model: 'm', rows: [{ videoId: video.id, clipIndex: 9, source: 'history', feature: feature(1, 1) }] }],
      { source: 'history' },
    );
    expect((await memory.load(camera.id, 'm')).map((r) => r.clipIndex)).toEqual([9]);
    expect(await memory.load(camera.id, 'n')).toEqual([]);
    await memory.clear(camera.id);
  });

  it("lists a camera's videos by id or by recording time (added time when unknown), and its reviewed spans", async () => {
    const cam = await repos.cameras.ensure('dock');
    const early = await addVideo(cam.id, new Date('2026-10-01T22:00:00Z'));
    const late = await addVideo(cam.id, new Date('2026-10-05T22:00:00Z'));
    const unknown = await addVideo(cam.id, null);
    const elsewhere = await addVideo(other.id, new Date('2026-10-05T22:00:00Z'));
    const memory = repos.normalMemory;
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    expect(ids(await memory.cameraVideos(cam.id))).toEqual([early.id, late.id, unknown.id]);
    expect(ids(await memory.cameraVideos(cam.id, { ids: [late.id, elsewhere.id] }))).toEqual([late.id]);
    expect(ids(await memory.cameraVideos(cam.id, { ids: [] }))).toEqual([]);
    expect(
      ids(await memory.cameraVideos(cam.id, { since: new Date('2026-10-02'), until: new Date('2026-10-06') })),
    ).toEqual([late.id]);
    // Added now, recorded at an unknown time: counted from when it was added.
    expect(ids(await memory.cameraVideos(cam.id, { since: new Date(Date.now() - 60_000) }))).toEqual([unknown.id]);

    await handle.db.insert(eventReviews).values([
      { videoId: early.id, startMs: 4_000, endMs: 12_000, label: 'Explosion', verdict: 'false', reviewedBy: 't' },
      { videoId: early.id, startMs: 30_000, endMs: 40_000, label: 'Fighting', verdict: 'true', reviewedBy: 't' },
      { videoId: late.id, startMs: 0, endMs: 8_000, label: 'Explosion', verdict: 'false', reviewedBy: 't' },
      { videoId: elsewhere.id, startMs: 0, endMs: 8_000, label: 'Explosion', verdict: 'false', reviewedBy: 't' },
    ]);
    expect(await memory.reviewSpans(cam.id, 'false')).toEqual([
      { videoId: early.id, startMs: 4_000, endMs: 12_000 },
      { videoId: late.id, startMs: 0, endMs: 8_000 },
    ]);
    expect(await memory.reviewSpans(cam.id, 'true', [early.id])).toEqual([
      { videoId: early.id, startMs: 30_000, endMs: 40_000 },
    ]);
    expect(await memory.reviewSpans(cam.id, 'false', [])).toEqual([]);
  });

  it("reads the clip scores of each video's current run, with the run's mode and threshold", async () => {
    const cam = await repos.cameras.ensure('furnace');
    const fused = await addVideo(cam.id, new Date('2026-11-10T22:00:00Z'), 3_600_000);
    const old = await addVideo(cam.id, new Date('2026-11-11T22:00:00Z'), 1_800_000);
    const before = await addVideo(cam.id, new Date('2026-10-01T22:00:00Z'));
    const clips = [0, 1, 2].map((i) => ({
      clipIndex: i,
      startMs: i * 4_000,
      endMs: i * 4_000 + 8_000,
      validFrames: 16,
      anomalyScore: 0.25 * (i + 1),
      label: 'Explosion',
      probabilities: {},
    }));
    const save = async (videoId: string, params: Record<string, unknown>) =>
      repos.scoring.saveRun(
        { id: randomUUID(), videoId, model: 'm', promptSet: 'p', aggregator: 'mean', params, configHash: randomUUID() },
        clips,
        [],
        cam.id,
        { markVideoDone: true },
      );
    // An earlier run of the fused video, replaced as current by the next one.
    await save(fused.id, { mode: 'prompts', threshold: 0.5 });
    await save(fused.id, { mode: 'fused', threshold: 0.62 });
    await save(old.id, { threshold: 0.5 });
    await save(before.id, { mode: 'fused', threshold: 0.5 });
    const since = new Date('2026-11-01T00:00:00Z');
    const all = await repos.normalMemory.recentClipScores(cam.id, { since });
    expect(all.map((v) => [v.videoId, v.mode, v.threshold, v.durationMs, v.clips.length])).toEqual([
      [fused.id, 'fused', 0.62, 3_600_000, 3],
      [old.id, 'prompts', 0.5, 1_800_000, 3],
    ]);
    expect(all[0]!.clips.map((c) => c.score)).toEqual([0.25, 0.5, 0.75]);
    const onlyFused = await repos.normalMemory.recentClipScores(cam.id, { since, mode: 'fused' });
    expect(onlyFused.map((v) => v.videoId)).toEqual([fused.id]);
    expect(
      await repos.normalMemory.recentClipScores(cam.id, { since, until: new Date('2026-11-10T00:00:00Z') }),
    ).toEqual([]);
  });

  it("sets and removes a camera's calibration", async () => {
    const cam = await repos.cameras.ensure('lobby');
    expect(cam).toMatchObject({ threshold: null, scoringMode: null });
    const set = await repos.cameras.setCalibration(cam.id, { threshold: 0.73, scoringMode: 'fused' });
    expect(set?.threshold).toBeCloseTo(0.73, 6);
    expect((await repos.cameras.get(cam.id))?.scoringMode).toBe('fused');
    expect((await repos.cameras.list()).find((c) => c.name === 'lobby')).toMatchObject({ scoringMode: 'fused' });
    await repos.cameras.setCalibration(cam.id, { threshold: null, scoringMode: null });
    expect(await repos.cameras.get(cam.id)).toMatchObject({ threshold: null, scoringMode: null });
    expect(await repos.cameras.setCalibration(999_999, { threshold: 0.5, scoringMode: null })).toBeUndefined();
  });
});
