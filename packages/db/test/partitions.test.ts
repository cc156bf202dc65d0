import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPipelineConfig } from '@vad/config';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createRepositories,
  type Database,
  type DatabaseHandle,
  dayOf,
  dropDatabase,
  EvaluationRepository,
  encodeEmbedding,
  ensureDatabase,
  ensureDayPartitions,
  FrameEmbeddingRepository,
  listDayPartitions,
  migrateDatabase,
  migrationsFolder,
  nextDay,
  partitionName,
  type Repositories,
  ScoringRepository,
  toBytes,
} from '../src/index.js';

// @vad/testing depends on this package, so these tests make their own database.
const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const testDatabaseUrl = () => `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;

const pipeline = { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 16, clipStride: 8 };
const newVideo = (recordedAt?: Date) => ({
  sourceUri: `/footage/${randomUUID()}.mp4`,
  sha256: randomUUID(),
  bytes: 1000,
  model: 'm',
  pipelineConfig: pipeline,
  configHash: hashPipelineConfig(pipeline),
  ...(recordedAt ? { recordedAt } : {}),
});
const vector = (seed: number) => Float32Array.from({ length: 8 }, (_, k) => Math.sin(seed * 8 + k));
const frameRows = (videoId: string, frames: number[], seed = 0) =>
  frames.map((frameIndex) => ({
    videoId,
    model: 'm',
    frameIndex,
    ptsMs: frameIndex * 500,
    dtype: 'float32' as const,
    embedding: toBytes(vector(seed + frameIndex)),
  }));

type Handle = DatabaseHandle & { repos: Repositories };
/** The partitions a video's frame embeddings are in. */
const partitionsOf = async (db: Handle, videoId: string) =>
  (
    await db.pool.query<{ p: string }>(
      'select distinct tableoid::regclass::text as p from frame_embeddings where video_id = $1',
      [videoId],
    )
  ).rows.map((r) => r.p);
const open = (url: string): Handle => {
  const handle = createDatabase(url);
  return { ...handle, repos: createRepositories(handle.db) };
};

/** The migrations folder as it was at 0008 (before partitioning), in a temporary folder. */
async function migrationsUpTo(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vad-migrations-'));
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  const last = journal.entries.findIndex((e) => e.tag === tag);
  journal.entries = journal.entries.slice(0, last + 1);
  await mkdir(join(dir, 'meta'));
  await writeFile(join(dir, 'meta', '_journal.json'), JSON.stringify(journal));
  for (const entry of journal.entries)
    await cp(join(migrationsFolder, `${entry.tag}.sql`), join(dir, `${entry.tag}.sql`));
  return dir;
}

describe('migration 0009 (partitioned frame_embeddings and clip_scores)', () => {
  it('moves every row of a database migrated to 0008 into day partitions, readable through the repositories', async () => {
    const url = testDatabaseUrl();
    const folder = await migrationsUpTo('0008_camera_calibration');
    await ensureDatabase(url);
    const old = createDatabase(url);
    try {
      await migrate(old.db, { migrationsFolder: folder });
      const q = (text: string, values: unknown[] = []) => old.pool.query(text, values);
      const insertVideo = async (recordedAt: string | null, createdAt: string) =>
        (
          await q(
            `insert into videos (source_uri, sha256, bytes, model, pipeline_config, config_hash, recorded_at, created_at, status)
             values ($1, $2, 1, 'm', '{}', 'c', $3, $4, 'done') returning id`,
            [`/f/${randomUUID()}`, randomUUID(), recordedAt, createdAt],
          )
        ).rows[0].id as string;
      // 23:30 on 31 October at UTC-2 is 1 November in UTC: the day is UTC's.
      const november1 = await insertVideo('2026-10-31T23:30:00-02:00', '2026-11-02T08:00:00Z');
      // Two videos of 20 November, one by its recording time, one (no recording time) by its upload.
      const november20 = await insertVideo('2026-11-20T22:00:00Z', '2026-11-21T08:00:00Z');
      const uploaded = await insertVideo(null, '2026-11-20T05:00:00Z');
      const september = await insertVideo('2026-09-10T22:00:00Z', '2026-09-11T08:00:00Z');
      for (const [video, frames] of [
        [november1, 5],
        [november20, 4],
        [uploaded, 2],
        [september, 3],
      ] as const) {
        for (let i = 0; i < frames; i += 1) {
          await q(
            `insert into frame_embeddings (video_id, frame_index, model, pts_ms, dtype, embedding) values ($1, $2, 'm', $3, 'float32', $4)`,
            [video, i, i * 500, toBytes(vector(i))],
          );
        }
        const run = randomUUID();
        await q(
          `insert into scoring_runs (id, video_id, model, prompt_set, aggregator, params, config_hash)
           values ($1, $2, 'm', 'p', 'mean', '{}', 'h')`,
          [run, video],
        );
        await q(`update videos set current_run_id = $1 where id = $2`, [run, video]);
        for (let c = 0; c < 2; c += 1) {
          await q(
            `insert into clip_scores (scoring_run_id, clip_index, video_id, start_ms, end_ms, valid_frames, anomaly_score, label, probabilities)
             values ($1, $2, $3, $4, $5, 16, 0.25, 'Arson', '{"normal":0.75}')`,
            [run, c, video, c * 4000, c * 4000 + 8000],
          );
        }
      }
    } finally {
      await old.close();
      await rm(folder, { recursive: true, force: true });
    }

    await migrateDatabase(url);
    const db = open(url);
    try {
      const kinds = await db.pool.query<{ relname: string; relkind: string }>(
        `select relname, relkind from pg_class where relname in ('frame_embeddings', 'clip_scores') order by relname`,
      );
      expect(kinds.rows).toEqual([
        { relname: 'clip_scores', relkind: 'p' },
        { relname: 'frame_embeddings', relkind: 'p' },
      ]);
      for (const table of ['frame_embeddings', 'clip_scores'] as const) {
        expect((await listDayPartitions(db.db, table)).map((p) => [p.name, p.day])).toEqual([
          [`${table}_d20260910`, '2026-09-10'],
          [`${table}_d20261101`, '2026-11-01'],
          [`${table}_d20261120`, '2026-11-20'],
        ]);
      }
      const counts = await db.pool.query<{ relname: string; n: number }>(
        `select tableoid::regclass::text as relname, count(*)::int as n from frame_embeddings group by 1 order by 1`,
      );
      expect(counts.rows).toEqual([
        { relname: 'frame_embeddings_d20260910', n: 3 },
        { relname: 'frame_embeddings_d20261101', n: 5 },
        { relname: 'frame_embeddings_d20261120', n: 4 + 2 },
      ]);
      const scores = await db.pool.query<{ relname: string; n: number }>(
        `select tableoid::regclass::text as relname, count(*)::int as n from clip_scores group by 1 order by 1`,
      );
      expect(scores.rows).toEqual([
        { relname: 'clip_scores_d20260910', n: 2 },
        { relname: 'clip_scores_d20261101', n: 2 },
        { relname: 'clip_scores_d20261120', n: 2 + 2 },
      ]);
      const byDay = async (day: string) =>
        (
          await db.pool.query<{ id: string }>(
            `select id from videos where (coalesce(recorded_at, created_at) at time zone 'UTC')::date = $1 order by created_at`,
            [day],
          )
        ).rows.map((r) => r.id);
      const [nov1] = await byDay('2026-11-01');
      const [uploaded, nov20] = await byDay('2026-11-20');
      const [sep] = await byDay('2026-09-10');
      const loaded = await db.repos.frameEmbeddings.loadVectors(nov1 as string, 'm');
      expect(loaded.map((f) => f.frameIndex)).toEqual([0, 1, 2, 3, 4]);
      expect(loaded.map((f) => f.sourceFrame)).toEqual([0, 1, 2, 3, 4]);
      loaded.forEach((f) => {
        expect(f.vector).toEqual(vector(f.frameIndex));
      });
      expect((await db.repos.frameEmbeddings.loadVectors(uploaded as string, 'm')).length).toBe(2);
      for (const video of [nov1, nov20, uploaded, sep] as string[]) {
        const run = await db.repos.scoring.latestRun(video);
        expect((await db.repos.scoring.clipsOf(run?.id ?? '')).map((c) => [c.clipIndex, c.anomalyScore])).toEqual([
          [0, 0.25],
          [1, 0.25],
        ]);
      }
      // Writes after the migration go to the video's day; drizzle finds nothing left to migrate.
      await db.repos.frameEmbeddings.upsertMany(frameRows(nov20 as string, [4, 5]));
      expect((await db.repos.frameEmbeddings.listFrames(nov20 as string, 'm')).length).toBe(6);
      expect(await partitionsOf(db, nov20 as string)).toEqual(['frame_embeddings_d20261120']);
      // Foreign keys still cascade.
      await db.repos.videos.delete(sep as string);
      const left = await db.pool.query<{ n: number }>(
        `select (select count(*) from frame_embeddings_d20260910)::int + (select count(*) from clip_scores_d20260910)::int as n`,
      );
      expect(left.rows[0]?.n).toBe(0);
    } finally {
      await db.close();
      await dropDatabase(url);
    }
  });
});

describe('day partitions', () => {
  const url = testDatabaseUrl();
  let db: Handle;
  beforeAll(async () => {
    await migrateDatabase(url);
    db = open(url);
  });
  afterAll(async () => {
    await db.close();
    await dropDatabase(url);
  });

  it('names days and partitions in UTC', () => {
    expect(dayOf(new Date('2026-10-31T23:30:00-02:00'))).toBe('2026-11-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(partitionName('frame_embeddings', '2026-11-30')).toBe('frame_embeddings_d20261130');
    expect(() => partitionName('clip_scores', '2026-11')).toThrow(/not a day/);
    expect(() => partitionName('clip_scores', '2026-02-30')).toThrow(/not a day/);
  });

  it('are created on demand, once, by many processes at the same moment', async () => {
    // Separate pools: separate processes as far as the partition cache goes.
    const handles = Array.from({ length: 6 }, () => open(url));
    try {
      await Promise.all(handles.map((h) => ensureDayPartitions(h.db, 'frame_embeddings', ['2031-04-01'])));
      const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2031-04-02T10:00:00Z')));
      // Six embed jobs of one new video writing their first rows at once, on a day never seen.
      await Promise.all(
        handles.map((h, i) => h.repos.frameEmbeddings.upsertMany(frameRows(video.id, [i * 2, i * 2 + 1]))),
      );
      expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 100)).toBe(12);
      expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20310402']);
      const names = (await listDayPartitions(db.db, 'frame_embeddings')).map((p) => p.name);
      expect(names.filter((n) => n.startsWith('frame_embeddings_d2031'))).toEqual([
        'frame_embeddings_d20310401',
        'frame_embeddings_d20310402',
      ]);
      const attached = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_indexes where tablename = 'frame_embeddings_d20310402'`,
      );
      expect(attached.rows[0]?.n).toBe(1); // the primary key, attached as the parent's
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('keeps a video on the day of its first rows when its recording time changes, without duplicates', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2030-01-20T22:00:00Z')));
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1, 2]));
    await db.pool.query(`update videos set recorded_at = '2030-01-21T00:30:00Z' where id = $1`, [video.id]);
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [2, 3], 100)); // frame 2 again (a retried job)
    expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20300120']);
    const frames = await db.repos.frameEmbeddings.loadVectors(video.id, 'm');
    expect(frames.map((f) => f.frameIndex)).toEqual([0, 1, 2, 3]);
    expect(frames[2]?.vector).toEqual(vector(102));
    // Clip scores follow the recording time the run is saved with; queries never need the day.
    const runId = randomUUID();
    await db.repos.scoring.saveRun(
      { id: runId, videoId: video.id, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
      [{ clipIndex: 0, startMs: 0, endMs: 8000, validFrames: 4, anomalyScore: 0.5, label: 'Arson', probabilities: {} }],
      [],
      null,
      { markVideoDone: true },
    );
    expect((await db.repos.scoring.clipsOf(runId)).map((c) => c.recordedDay)).toEqual(['2030-01-21']);
  });

  it('writes again after a partition it knew was dropped by another process', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2029-07-07T07:00:00Z')));
    await ensureDayPartitions(db.db, 'frame_embeddings', ['2029-07-07']);
    await ensureDayPartitions(db.db, 'clip_scores', ['2029-07-07']);
    await db.pool.query('drop table frame_embeddings_d20290707');
    await db.pool.query('drop table clip_scores_d20290707');
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0]));
    expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20290707']);
    const runId = randomUUID();
    await db.repos.scoring.saveRun(
      { id: runId, videoId: video.id, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
      [{ clipIndex: 0, startMs: 0, endMs: 8000, validFrames: 1, anomalyScore: 0.1, label: 'Arson', probabilities: {} }],
      [],
      null,
      { markVideoDone: true },
    );
    expect(await db.repos.scoring.clipsOf(runId)).toHaveLength(1);
  });

  it('refuses to write embeddings of a video that does not exist', async () => {
    await expect(db.repos.frameEmbeddings.upsertMany(frameRows(randomUUID(), [0]))).rejects.toThrow(/no video/);
  });
});

describe('frames that reuse an earlier frame’s vector (motion sampling)', () => {
  const url = testDatabaseUrl();
  let db: Handle;
  beforeAll(async () => {
    await migrateDatabase(url);
    db = open(url);
  });
  afterAll(async () => {
    await db.close();
    await dropDatabase(url);
  });

  it('are stored without a vector, loaded with their source’s, counted, and measured', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo());
    const v0 = vector(1);
    const v3 = vector(2);
    await db.repos.frameEmbeddings.upsertMany([
      {
        videoId: video.id,
        model: 'm',
        frameIndex: 0,
        ptsMs: 0,
        dtype: 'float16',
        embedding: encodeEmbedding(v0, 'float16'),
      },
      { videoId: video.id, model: 'm', frameIndex: 1, ptsMs: 500, embedding: null, sameAsFrame: 0 },
      { videoId: video.id, model: 'm', frameIndex: 2, ptsMs: 1000, embedding: null, sameAsFrame: 0 },
      { videoId: video.id, model: 'm', frameIndex: 3, ptsMs: 1500, dtype: 'float32', embedding: toBytes(v3) },
      { videoId: video.id, model: 'm', frameIndex: 4, ptsMs: 2000, embedding: null, sameAsFrame: 3 },
    ]);
    const frames = await db.repos.frameEmbeddings.loadVectors(video.id, 'm');
    expect(frames.map((f) => [f.frameIndex, f.sourceFrame])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 3],
      [4, 3],
    ]);
    expect(frames[1]?.vector).toBe(frames[0]?.vector);
    expect(frames[4]?.vector).toBe(frames[3]?.vector);
    expect(frames[4]?.vector).toEqual(v3);
    expect(new Set(frames.map((f) => f.sourceFrame)).size).toBe(2);
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 4)).toBe(5);
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 1, 2)).toBe(2);
    expect(await db.repos.frameEmbeddings.storageOf(video.id)).toEqual({
      encodedRows: 2,
      reusedRows: 3,
      embeddingBytes: 8 * 2 + 8 * 4,
    });
    expect(await db.repos.frameEmbeddings.storageOf(video.id, 'other')).toEqual({
      encodedRows: 0,
      reusedRows: 0,
      embeddingBytes: 0,
    });
    // A retried segment may turn a reused frame into an encoded one, and back.
    await db.repos.frameEmbeddings.upsertMany([
      { videoId: video.id, model: 'm', frameIndex: 2, ptsMs: 1000, dtype: 'float32', embedding: toBytes(v3) },
    ]);
    expect((await db.repos.frameEmbeddings.loadVectors(video.id, 'm'))[2]?.sourceFrame).toBe(2);
  });

  it('hold exactly one of a vector and a source frame, an earlier one', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo());
    const row = { videoId: video.id, model: 'm', frameIndex: 5, ptsMs: 2500 };
    await expect(db.repos.frameEmbeddings.upsertMany([{ ...row, embedding: null }])).rejects.toThrow();
    await expect(
      db.repos.frameEmbeddings.upsertMany([{ ...row, embedding: toBytes(vector(0)), sameAsFrame: 1 }]),
    ).rejects.toThrow();
    await expect(db.repos.frameEmbeddings.upsertMany([{ ...row, embedding: null, sameAsFrame: 6 }])).rejects.toThrow();
    const checks = await db.pool.query<{ conname: string }>(
      `select conname from pg_constraint where conrelid = 'frame_embeddings'::regclass and contype = 'c' order by 1`,
    );
    expect(checks.rows.map((r) => r.conname)).toEqual([
      'frame_embeddings_reuse_earlier_ck',
      'frame_embeddings_vector_or_reuse_ck',
    ]);
  });

  it('name a source that must hold a vector: loading fails clearly otherwise', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo());
    await db.repos.frameEmbeddings.upsertMany([
      { videoId: video.id, model: 'm', frameIndex: 0, ptsMs: 0, embedding: toBytes(vector(0)) },
      { videoId: video.id, model: 'm', frameIndex: 3, ptsMs: 1500, embedding: null, sameAsFrame: 1 },
    ]);
    await expect(db.repos.frameEmbeddings.loadVectors(video.id, 'm')).rejects.toThrow(
      `frame 3 of video ${video.id} (model m) reuses the vector of frame 1, which is not stored`,
    );
    await db.repos.frameEmbeddings.upsertMany([
      { videoId: video.id, model: 'm', frameIndex: 1, ptsMs: 500, embedding: null, sameAsFrame: 0 },
    ]);
    await expect(db.repos.frameEmbeddings.loadVectors(video.id, 'm')).rejects.toThrow(
      'reuses the vector of frame 1, which reuses frame 0 instead of holding one',
    );
  });
});

describe('retention by day partition (repository)', () => {
  const url = testDatabaseUrl();
  let db: Handle;
  beforeAll(async () => {
    await migrateDatabase(url);
    db = open(url);
  });
  afterAll(async () => {
    await db.close();
    await dropDatabase(url);
  });
  const finish = (videoId: string, at: string) =>
    db.pool.query(`update videos set status = 'done', finished_at = $2, updated_at = $2 where id = $1`, [videoId, at]);

  it('leaves a day to row deletes when its table stays locked past the timeout, and drops it on the next run', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2025-02-02T22:00:00Z')));
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1, 2]));
    await finish(video.id, '2025-02-03T06:00:00Z');
    const cutoff = new Date('2025-06-01T00:00:00Z');
    // A long reader of frame_embeddings: a DROP of one of its partitions must wait for it.
    const reader = await db.pool.connect();
    try {
      await reader.query('begin');
      await reader.query('select count(*) from frame_embeddings');
      const drops = await db.repos.retention.dropEmbeddingPartitions(cutoff);
      expect(drops).toEqual({
        dropped: [],
        skipped: [{ partition: 'frame_embeddings_d20250202', reason: 'table lock not granted within 5s' }],
      });
      await reader.query('commit');
    } finally {
      reader.release();
    }
    expect((await db.repos.videos.get(video.id))?.embeddingsRemovedAt).toBeNull();
    const drops = await db.repos.retention.dropEmbeddingPartitions(cutoff);
    expect(drops.dropped).toEqual([
      {
        table: 'frame_embeddings',
        partition: 'frame_embeddings_d20250202',
        day: '2025-02-02',
        videos: 1,
        approxRows: expect.any(Number),
        bytes: expect.any(Number),
        lock: { ms: expect.any(Number), partitions: 1 },
      },
    ]);
    expect((await db.repos.videos.get(video.id))?.embeddingsRemovedAt).not.toBeNull();
    // The day can be written again (a video requeued, or a new one recorded then).
    const { video: late } = await db.repos.videos.insertOrGet(newVideo(new Date('2025-02-02T23:00:00Z')));
    await db.repos.frameEmbeddings.upsertMany(frameRows(late.id, [0]));
    expect(await partitionsOf(db, late.id)).toEqual(['frame_embeddings_d20250202']);
    await db.pool.query('delete from videos');
    await db.pool.query('drop table frame_embeddings_d20250202');
  });

  it('keeps a day that still holds a video inside retention, found by its rows or by its recording day', async () => {
    const cutoff = new Date('2025-06-01T00:00:00Z');
    const rowsOn = async (recordedAt: string) => {
      const { video } = await db.repos.videos.insertOrGet(newVideo(new Date(recordedAt)));
      await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1]));
      return video.id;
    };
    // 1 March: an expired video, and one still embedding whose recording time was moved to
    // 5 March after its first rows (they stay on 1 March): only its rows tell that 1 March is in use.
    await finish(await rowsOn('2025-03-01T22:00:00Z'), '2025-03-02T06:00:00Z');
    const moved = await rowsOn('2025-03-01T23:00:00Z');
    await db.pool.query(`update videos set recorded_at = '2025-03-05T22:00:00Z' where id = $1`, [moved]);
    // 2 April: an expired video, and a late upload recorded that night still queued, with no rows yet.
    await finish(await rowsOn('2025-04-02T22:00:00Z'), '2025-04-03T06:00:00Z');
    await db.repos.videos.insertOrGet(newVideo(new Date('2025-04-02T21:00:00Z')));
    // 3 April: every video expired.
    const expired = await rowsOn('2025-04-03T22:00:00Z');
    await finish(expired, '2025-04-04T06:00:00Z');
    // 5 May: an empty partition, its day before the cutoff's; 1 June: one whose day has not ended before it.
    await ensureDayPartitions(db.db, 'frame_embeddings', ['2025-05-05', '2025-06-01']);

    const drops = await db.repos.retention.dropEmbeddingPartitions(cutoff);
    expect(drops.skipped).toEqual([]);
    expect(drops.dropped.map((p) => [p.partition, p.day, p.videos])).toEqual([
      ['frame_embeddings_d20250403', '2025-04-03', 1],
      ['frame_embeddings_d20250505', '2025-05-05', 0],
    ]);
    expect((await listDayPartitions(db.db, 'frame_embeddings')).map((p) => p.day)).toEqual([
      '2025-03-01',
      '2025-04-02',
      '2025-06-01',
    ]);
    expect((await db.repos.videos.get(expired))?.embeddingsRemovedAt).not.toBeNull();
    expect(await db.repos.frameEmbeddings.countInRange(moved, 'm', 0, 10)).toBe(2);
    // One transaction dropped both (a batch), and nothing else is left to drop on the next run.
    expect(drops.dropped.map((p) => p.lock.partitions)).toEqual([2, 2]);
    expect(await db.repos.retention.dropEmbeddingPartitions(cutoff)).toEqual({ dropped: [], skipped: [] });
    await db.pool.query('delete from videos');
    for (const p of await listDayPartitions(db.db, 'frame_embeddings')) await db.pool.query(`drop table ${p.name}`);
  });

  it('drops each day once when two runs go at the same moment', async () => {
    const days = ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04'];
    for (const day of days) {
      const { video } = await db.repos.videos.insertOrGet(newVideo(new Date(`${day}T22:00:00Z`)));
      await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1]));
      await finish(video.id, '2024-05-10T00:00:00Z');
    }
    const other = open(url);
    try {
      const cutoff = new Date('2024-06-01T00:00:00Z');
      const runs = await Promise.all([
        db.repos.retention.dropEmbeddingPartitions(cutoff),
        other.repos.retention.dropEmbeddingPartitions(cutoff),
      ]);
      expect(runs.flatMap((r) => r.skipped)).toEqual([]);
      expect(runs.flatMap((r) => r.dropped.map((p) => p.day)).sort()).toEqual(days);
      expect(await listDayPartitions(db.db, 'frame_embeddings')).toEqual([]);
      const marked = await db.pool.query<{ n: number }>(
        'select count(*)::int as n from videos where embeddings_removed_at is not null',
      );
      expect(marked.rows[0]?.n).toBe(days.length);
    } finally {
      await other.close();
    }
  });
});

describe('day hints: queries by video or run name the day', () => {
  const url = testDatabaseUrl();
  let db: Handle;
  beforeAll(async () => {
    await migrateDatabase(url);
    db = open(url);
  });
  afterAll(async () => {
    await db.close();
    await dropDatabase(url);
  });

  const saveRun = async (repos: Repositories, videoId: string, clips: number) => {
    const runId = randomUUID();
    await repos.scoring.saveRun(
      { id: runId, videoId, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
      Array.from({ length: clips }, (_, c) => ({
        clipIndex: c,
        startMs: c * 4000,
        endMs: c * 4000 + 8000,
        validFrames: 16,
        anomalyScore: c / 10,
        label: 'Arson',
        probabilities: {},
      })),
      [],
      null,
      { markVideoDone: true },
    );
    return runId;
  };
  /** Day partitions (not their indexes) of `table` that the transaction holds a lock on. */
  const lockedDays = async (tx: Pick<Database, 'execute'>, table: string) =>
    (
      await tx.execute<{ relname: string }>(
        sql`select c.relname from pg_locks l join pg_class c on c.oid = l.relation
            where l.pid = pg_backend_pid() and c.relname ~ ${`^${table}_d[0-9]{8}$`} order by 1`,
      )
    ).rows.map((r) => r.relname);
  /** Reads through repositories made on a transaction, and the day partitions it locked meanwhile. */
  const inTransaction = <T>(read: (tx: Database) => Promise<T>, table: string) =>
    db.db.transaction(async (tx) => {
      const result = await read(tx as unknown as Database);
      return { result, locked: await lockedDays(tx, table) };
    });

  it('plan and lock the partition of the video’s day alone, and return what the query by id alone returns', async () => {
    const camera = await db.repos.cameras.ensure('hints');
    const ids: string[] = [];
    for (const day of ['2032-03-01', '2032-03-02', '2032-03-03', '2032-03-04', '2032-03-05']) {
      const { video } = await db.repos.videos.insertOrGet({
        ...newVideo(new Date(`${day}T21:00:00Z`)),
        cameraId: camera.id,
      });
      await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1, 2, 3], ids.length * 10));
      await saveRun(db.repos, video.id, 3);
      ids.push(video.id);
    }
    const video = ids[2] as string;
    const runId = (await db.repos.scoring.latestRun(video))?.id as string;
    const unpruned = await inTransaction(async (tx) => {
      await tx.execute(sql`select frame_index from frame_embeddings where video_id = ${video} and model = 'm'`);
      await tx.execute(sql`select clip_index from clip_scores where scoring_run_id = ${runId}`);
    }, 'frame_embeddings');
    expect(unpruned.locked.length).toBeGreaterThanOrEqual(5);

    // A repository on a transaction: a fresh set of hints (the cold path: the day read from the video's row).
    const frames = await inTransaction(async (tx) => {
      const repo = new FrameEmbeddingRepository(tx);
      return {
        vectors: await repo.loadVectors(video, 'm'),
        list: await repo.listFrames(video, 'm'),
        count: await repo.countInRange(video, 'm', 1, 2),
        storage: await repo.storageOf(video),
      };
    }, 'frame_embeddings');
    expect(frames.locked).toEqual(['frame_embeddings_d20320303']);
    expect(frames.result.vectors.map((f) => [f.frameIndex, f.vector])).toEqual(
      [0, 1, 2, 3].map((i) => [i, vector(20 + i)]),
    );
    expect(frames.result.list.map((f) => f.frameIndex)).toEqual([0, 1, 2, 3]);
    expect(frames.result.count).toBe(2);
    expect(frames.result.storage).toEqual({ encodedRows: 4, reusedRows: 0, embeddingBytes: 4 * 32 });

    const clips = await inTransaction(async (tx) => {
      const scoring = new ScoringRepository(tx);
      const evaluation = new EvaluationRepository(tx as Pick<Database, 'select'>, null);
      return { clips: await scoring.clipsOf(runId), series: await evaluation.clipSeries([runId]) };
    }, 'clip_scores');
    expect(clips.locked).toEqual(['clip_scores_d20320303']);
    expect(clips.result.clips.map((c) => [c.clipIndex, c.recordedDay])).toEqual([
      [0, '2032-03-03'],
      [1, '2032-03-03'],
      [2, '2032-03-03'],
    ]);
    expect(clips.result.series).toEqual([
      { runId, startMs: [0, 4000, 8000], endMs: [8000, 12000, 16000], scores: [0, 0.1, 0.2] },
    ]);

    // Several runs of several days: those days alone.
    const runs = await Promise.all(ids.map(async (id) => (await db.repos.scoring.latestRun(id))?.id as string));
    const series = await inTransaction(
      (tx) => new EvaluationRepository(tx as Pick<Database, 'select'>, null).clipSeries([runs[1], runs[3]] as string[]),
      'clip_scores',
    );
    expect(series.locked).toEqual(['clip_scores_d20320302', 'clip_scores_d20320304']);
    expect(series.result.map((r) => r.runId).sort()).toEqual([runs[1], runs[3]].sort());
    const recent = await db.repos.normalMemory.recentClipScores(camera.id, { since: new Date('2032-03-02T00:00:00Z') });
    expect(recent.map((v) => [v.videoId, v.clips.map((c) => c.clipIndex)])).toEqual(
      ids.slice(1).map((id) => [id, [0, 1, 2]]),
    );
  });

  it('still find every row when the hint is wrong: rows on a day other than the recording time gives', async () => {
    const camera = await db.repos.cameras.ensure('moved');
    const { video } = await db.repos.videos.insertOrGet({
      ...newVideo(new Date('2032-04-10T21:00:00Z')),
      cameraId: camera.id,
    });
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1, 2]));
    const runId = await saveRun(db.repos, video.id, 2);
    expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20320410']);
    // Another video's rows on the day the recording time now gives: the hinted partition exists and is not empty.
    const { video: neighbour } = await db.repos.videos.insertOrGet(newVideo(new Date('2032-04-12T21:00:00Z')));
    await db.repos.frameEmbeddings.upsertMany(frameRows(neighbour.id, [0]));
    await saveRun(db.repos, neighbour.id, 1);

    const check = async (repos: Repositories) => {
      expect((await repos.frameEmbeddings.loadVectors(video.id, 'm')).map((f) => f.frameIndex)).toEqual([0, 1, 2]);
      expect((await repos.frameEmbeddings.listFrames(video.id, 'm')).map((f) => f.frameIndex)).toEqual([0, 1, 2]);
      expect(await repos.frameEmbeddings.countInRange(video.id, 'm', 0, 10)).toBe(3);
      expect((await repos.frameEmbeddings.storageOf(video.id, 'm')).encodedRows).toBe(3);
      expect((await repos.scoring.clipsOf(runId)).map((c) => [c.clipIndex, c.recordedDay])).toEqual([
        [0, '2032-04-10'],
        [1, '2032-04-10'],
      ]);
      expect((await repos.evaluation.clipSeries([runId])).map((r) => r.scores.length)).toEqual([2]);
      const recent = await repos.normalMemory.recentClipScores(camera.id, { since: new Date('2032-04-01T00:00:00Z') });
      expect(recent.map((v) => [v.videoId, v.clips.length])).toEqual([[video.id, 2]]);
    };
    // The recording time moves to a day with a partition of its own, then to one with none: each time a
    // new process (fresh hints, from the video's row) and this one (hints of the rows found) find the rows.
    for (const recordedAt of ['2032-04-12T22:00:00Z', '2032-05-20T22:00:00Z']) {
      await db.pool.query('update videos set recorded_at = $2 where id = $1', [video.id, recordedAt]);
      const fresh = open(url);
      const writer = open(url);
      try {
        await check(fresh.repos);
        await check(db.repos);
        // A later segment written by a new process follows the rows, wherever the recording time points.
        await writer.repos.frameEmbeddings.upsertMany(frameRows(video.id, [1]));
        expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20320410']);
        await check(writer.repos);
      } finally {
        await fresh.close();
        await writer.close();
      }
    }
  });

  it('follow rows rewritten on another day after a process last saw them', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2032-06-01T21:00:00Z')));
    await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1]));
    // Two processes keep 1 June as the video's day: this one, which wrote the rows, and one that read them.
    const reader = open(url);
    try {
      expect(await reader.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 10)).toBe(2);
      // Its embeddings removed, its recording time corrected, and embedded again by another process.
      await db.pool.query('delete from frame_embeddings where video_id = $1', [video.id]);
      await db.pool.query(`update videos set recorded_at = '2032-06-03T21:00:00Z' where id = $1`, [video.id]);
      const other = open(url);
      try {
        await other.repos.frameEmbeddings.upsertMany(frameRows(video.id, [0, 1, 2], 50));
      } finally {
        await other.close();
      }
      expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20320603']);
      // The reader's queries find them.
      expect(await reader.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 10)).toBe(3);
      // This process's writes follow them, and so do its reads.
      await db.repos.frameEmbeddings.upsertMany(frameRows(video.id, [3], 50));
      expect(await partitionsOf(db, video.id)).toEqual(['frame_embeddings_d20320603']);
      const frames = await db.repos.frameEmbeddings.loadVectors(video.id, 'm');
      expect(frames.map((f) => [f.frameIndex, f.vector])).toEqual([0, 1, 2, 3].map((i) => [i, vector(50 + i)]));
      expect((await reader.repos.frameEmbeddings.listFrames(video.id, 'm')).length).toBe(4);
    } finally {
      await reader.close();
    }
  });

  it('answer for videos and runs with no rows at all', async () => {
    const { video } = await db.repos.videos.insertOrGet(newVideo(new Date('2032-07-01T21:00:00Z')));
    expect(await db.repos.frameEmbeddings.loadVectors(video.id, 'm')).toEqual([]);
    expect(await db.repos.frameEmbeddings.countInRange(video.id, 'm', 0, 10)).toBe(0);
    expect(await db.repos.frameEmbeddings.storageOf(video.id)).toEqual({
      encodedRows: 0,
      reusedRows: 0,
      embeddingBytes: 0,
    });
    expect(await db.repos.frameEmbeddings.loadVectors(randomUUID(), 'm')).toEqual([]);
    const empty = await saveRun(db.repos, video.id, 0);
    expect(await db.repos.scoring.clipsOf(empty)).toEqual([]);
    expect(await db.repos.scoring.clipsOf(randomUUID())).toEqual([]);
    expect(await db.repos.evaluation.clipSeries([empty, randomUUID()])).toEqual([]);
  });
});
