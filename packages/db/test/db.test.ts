import { randomBytes } from 'node:crypto';
import { hashPipelineConfig } from '@vad/config';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  decodeEmbedding,
  dropDatabase,
  encodeEmbedding,
  ensureDatabase,
  migrateDatabase,
  type Repositories,
} from '../src/index.js';

// @vad/testing depends on this package, so these tests make their own database.
const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const testDatabaseUrl = () => `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;

const pipeline = { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 16, clipStride: 8 };
const newVideo = (sha256: string) => ({
  sourceUri: `/footage/${sha256}.mp4`,
  sha256,
  bytes: 1000,
  model: 'm',
  pipelineConfig: pipeline,
  configHash: hashPipelineConfig(pipeline),
});

describe('migrations', () => {
  it('create the database when missing, and running them again (also concurrently) is harmless', async () => {
    const url = testDatabaseUrl();
    try {
      const results = await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await ensureDatabase(url)).toEqual({ created: false });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const tables = await client.query<{ tablename: string }>(
        "select tablename from pg_tables where schemaname = 'public' order by tablename",
      );
      await client.end();
      expect(tables.rows.map((r) => r.tablename)).toEqual([
        'anomaly_events',
        'camera_normal_features',
        'cameras',
        'clip_scores',
        'event_reviews',
        'frame_embeddings',
        'scoring_runs',
        'text_embeddings',
        'videos',
      ]);
    } finally {
      await dropDatabase(url);
    }
  });
});

describe('repositories', () => {
  const url = testDatabaseUrl();
  let handle: DatabaseHandle;
  let db: DatabaseHandle & { repos: Repositories };
  beforeAll(async () => {
    await migrateDatabase(url);
    handle = createDatabase(url);
    db = { ...handle, repos: createRepositories(handle.db) };
  });
  afterAll(async () => {
    await handle.close();
    await dropDatabase(url);
  });

  it('creates a camera once, whatever the number of callers', async () => {
    const cameras = await Promise.all([1, 2, 3].map(() => db.repos.cameras.ensure('loading-dock')));
    expect(new Set(cameras.map((c) => c.id)).size).toBe(1);
    expect(cameras[0]?.timezone).toBe('UTC');
    expect((await db.repos.cameras.findByName('loading-dock'))?.id).toBe(cameras[0]?.id);
  });

  it('deduplicates videos on (sha256, pipeline config), also under concurrent inserts', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => db.repos.videos.insertOrGet(newVideo('a'.repeat(64)))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.video.id)).size).toBe(1);
    const otherConfig = { ...newVideo('a'.repeat(64)), configHash: 'different' };
    expect((await db.repos.videos.insertOrGet(otherConfig)).created).toBe(true);
  });

  it('moves a video through ingest states and records failures', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo('b'.repeat(64)));
    expect(video.status).toBe('queued');
    await db.repos.videos.markIngesting(video.id);
    await db.repos.videos.saveProbe(video.id, { durationMs: 5000, fps: 25, width: 640, height: 360, codec: 'h264' });
    await db.repos.videos.recordIngestProgress(video.id, 4, 1);
    await db.repos.videos.markIngested(video.id, 10, 2);
    expect(await db.repos.videos.get(video.id)).toMatchObject({
      status: 'embedding',
      durationMs: 5000,
      width: 640,
      framesDecoded: 10,
      segmentsWritten: 2,
    });
    await db.repos.videos.markFailed(video.id, 'contains no video stream');
    expect(await db.repos.videos.get(video.id)).toMatchObject({ status: 'failed', error: 'contains no video stream' });
    expect(await db.repos.videos.listByStatus(['failed'])).toHaveLength(1);
    expect(await db.repos.videos.delete(video.id)).toBe(true);
    expect(await db.repos.videos.get(video.id)).toBeUndefined();
  });

  it('measures recent throughput over busy time only: overlapping spans once, idle gaps not at all', async () => {
    const spans = [
      // [started, finished] minutes ago, 30 minutes of video each
      [50, 40],
      [45, 35], // overlaps the first: together 15 busy minutes
      [20, 10], // after a 15-minute idle gap: 10 more
    ];
    for (const [i, [started, finished]] of spans.entries()) {
      const { video } = await db.repos.videos.insertOrGet({ ...newVideo(`rate${i}`), durationMs: 1_800_000 });
      await handle.pool.query(
        `update videos set status = 'done', ingest_started_at = now() - make_interval(mins => $2),
                finished_at = now() - make_interval(mins => $3) where id = $1`,
        [video.id, started, finished],
      );
    }
    const recent = await db.repos.videos.recentThroughput(60 * 60_000);
    expect(recent.videos).toBe(3);
    expect(recent.durationMs).toBe(3 * 1_800_000);
    expect(recent.busyMs / 60_000).toBeCloseTo(25, 1);
    // A window that cuts the first spans counts only what lies inside it.
    const last = await db.repos.videos.recentThroughput(42 * 60_000);
    expect(last.videos).toBe(3); // all finished within it; their spans are clipped to its start
    expect(last.busyMs / 60_000).toBeCloseTo(7 + 10, 1);
  });

  it('counts embedded frames in a range', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo('c'.repeat(64)));
    const embedding = Buffer.alloc(8);
    await db.repos.frameEmbeddings.upsertMany(
      [0, 1, 2, 3, 4].map((frameIndex) => ({
        videoId: video.id,
        frameIndex,
        model: 'm',
        ptsMs: frameIndex * 500,
        embedding,
      })),
    );
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 3)).toBe(4);
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 4, 10)).toBe(1);
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'other', 0, 10)).toBe(0);
  });

  it('reads each frame embedding in the dtype it was stored in (float16 and float32 side by side)', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo('d'.repeat(64)));
    const vectors = [0, 1, 2, 3].map((i) => Float32Array.from({ length: 512 }, (_, k) => Math.sin(i * 512 + k) / 22.6));
    await db.repos.frameEmbeddings.upsertMany(
      vectors.map((vector, frameIndex) => {
        const dtype = frameIndex % 2 ? ('float32' as const) : ('float16' as const);
        return {
          videoId: video.id,
          frameIndex,
          model: 'm',
          ptsMs: frameIndex * 500,
          dtype,
          embedding: encodeEmbedding(vector, dtype),
        };
      }),
    );
    const sizes = await db.pool.query<{ bytes: number }>(
      'select octet_length(embedding) as bytes from frame_embeddings where video_id = $1 order by frame_index',
      [video.id],
    );
    expect(sizes.rows.map((r) => r.bytes)).toEqual([1024, 2048, 1024, 2048]);
    const loaded = await db.repos.frameEmbeddings.loadVectors(video.id, 'm');
    expect(loaded.map((r) => r.vector.length)).toEqual([512, 512, 512, 512]);
    loaded.forEach(({ vector }, i) => {
      const original = vectors[i] as Float32Array;
      const error = Math.max(...vector.map((v, k) => Math.abs(v - (original[k] as number))));
      expect(error).toBeLessThan(i % 2 ? 1e-9 : 5e-5);
    });
  });
});

describe('embedding bytes', () => {
  it('float16 halves the bytes and keeps unit vectors to within half a float16 step', () => {
    const vector = Float32Array.from({ length: 512 }, (_, k) => Math.cos(k * 0.37) / 16);
    const half = encodeEmbedding(vector, 'float16');
    expect(half.byteLength).toBe(1024);
    const back = decodeEmbedding(half, 'float16');
    for (let k = 0; k < vector.length; k += 1) {
      const v = vector[k] as number;
      // float16 keeps 11 significant bits: the rounding error is at most 2^-11 of the value.
      expect(Math.abs((back[k] as number) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-8);
    }
    expect(decodeEmbedding(encodeEmbedding(vector, 'float32'), 'float32')).toEqual(vector);
    // Bytes from a driver's buffer at an odd offset decode the same.
    const shifted = Buffer.concat([Buffer.from([7]), half]).subarray(1);
    expect(decodeEmbedding(shifted, 'float16')).toEqual(back);
  });
});
