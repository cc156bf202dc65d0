import { randomUUID } from 'node:crypto';
import type { Config } from '@vad/config';
import { ensureDayPartitions, listDayPartitions, toBytes } from '@vad/db';
import { createQueues, type Queues, queueConnectionOf } from '@vad/queue';
import { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
import { createTestEnvironment, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService } from '../src/index.js';

const FRAMES = 6;
const CLIPS = 2;

function setUp() {
  const t = {} as { env: TestEnvironment; queues: Queues };
  beforeAll(async () => {
    t.env = await createTestEnvironment({ tinyModel: false });
    const connection = queueConnectionOf(t.env.config, 'worker');
    t.env.track({ close: () => connection.close() });
    t.queues = createQueues(t.env.config, connection);
    t.env.track({ close: () => t.queues.close() });
  });
  afterAll(() => t.env.destroy());
  return t;
}

/**
 * A video recorded at `recordedAt` with FRAMES frame embeddings and a scoring
 * run of CLIPS clip scores, then `done` and finished at `finishedAt`, or left
 * `embedding` (unfinished) when that is null.
 */
async function seed(env: TestEnvironment, recordedAt: string, finishedAt: string | null): Promise<string> {
  const { db } = env;
  const { video } = await db.repos.videos.insertOrGet({
    sourceUri: `/footage/${randomUUID()}.mp4`,
    sha256: randomUUID(),
    bytes: 1,
    durationMs: FRAMES * 500,
    recordedAt: new Date(recordedAt),
    model: 'm',
    pipelineConfig: { ...env.config.pipeline, inputSize: 224 },
    configHash: 'c',
  });
  await db.repos.frameEmbeddings.upsertMany(
    Array.from({ length: FRAMES }, (_, i) => ({
      videoId: video.id,
      model: 'm',
      frameIndex: i,
      ptsMs: i * 500,
      // Every third frame barely changed: it reuses the frame before it.
      ...(i % 3 === 2 ? { embedding: null, sameAsFrame: i - 1 } : { embedding: toBytes(new Float32Array([i, 1])) }),
    })),
  );
  await db.repos.scoring.saveRun(
    {
      id: randomUUID(),
      videoId: video.id,
      model: 'm',
      promptSet: 'p',
      aggregator: 'mean',
      params: {},
      configHash: 'h',
    },
    Array.from({ length: CLIPS }, (_, c) => ({
      clipIndex: c,
      startMs: c * 4000,
      endMs: c * 4000 + 8000,
      validFrames: 16,
      anomalyScore: 0.1,
      label: 'Arson',
      probabilities: {},
    })),
    [],
    null,
    { markVideoDone: finishedAt !== null },
  );
  await db.pool.query(
    finishedAt === null
      ? `update videos set status = 'embedding', finished_at = null, updated_at = '2020-01-01' where id = $1`
      : `update videos set finished_at = $2, updated_at = $2 where id = $1`,
    finishedAt === null ? [video.id] : [video.id, finishedAt],
  );
  return video.id;
}

function retention(t: { env: TestEnvironment; queues: Queues }, retain: Partial<Config['retention']>, now: string) {
  const { config, db, logger } = t.env;
  return new RetentionService({
    config: { ...config, retention: { ...config.retention, ...retain } },
    repos: db.repos,
    queues: t.queues,
    thumbnails: new ThumbnailStore(config.storage.root),
    clips: new EventClipStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    logger,
    now: () => Date.parse(now),
  });
}

const partitions = async (env: TestEnvironment, table: 'frame_embeddings' | 'clip_scores') =>
  (await listDayPartitions(env.db.db, table)).map((p) => p.name);
const frameRows = async (env: TestEnvironment, videoId: string) =>
  (await env.db.repos.frameEmbeddings.listFrames(videoId, 'm')).length;

describe('embeddings retention by day partition', () => {
  const t = setUp();

  it('drops a day whose videos all ended before the cutoff whole, and deletes rows where a day cannot go', async () => {
    const { env } = t;
    // 3 January: two cameras' nights, both ended long ago; 30 January: one more. 10 February: one
    // ended, one still embedding. 10 June: recent.
    const january = [
      await seed(env, '2027-01-03T20:00:00Z', '2027-01-04T06:00:00Z'),
      await seed(env, '2027-01-03T22:00:00Z', '2027-01-04T07:00:00Z'),
      await seed(env, '2027-01-30T22:00:00Z', '2027-02-01T06:00:00Z'),
    ];
    const februaryDone = await seed(env, '2027-02-10T22:00:00Z', '2027-02-11T06:00:00Z');
    const februaryUnfinished = await seed(env, '2027-02-10T23:00:00Z', null);
    const june = await seed(env, '2027-06-10T22:00:00Z', '2027-06-11T06:00:00Z');
    await ensureDayPartitions(env.db.db, 'frame_embeddings', ['2026-12-01']); // an old day left empty

    const result = await retention(t, { embeddingsDays: 30 }, '2027-06-15T12:00:00Z').run();

    expect(result.partitionsDropped.map((p) => [p.partition, p.day, p.videos])).toEqual([
      ['frame_embeddings_d20261201', '2026-12-01', 0],
      ['frame_embeddings_d20270103', '2027-01-03', 2],
      ['frame_embeddings_d20270130', '2027-01-30', 1],
    ]);
    expect(await partitions(env, 'frame_embeddings')).toEqual([
      'frame_embeddings_d20270210',
      'frame_embeddings_d20270610',
    ]);
    // Whole days: rows gone with the partition, videos marked.
    for (const id of january) {
      expect(await frameRows(env, id)).toBe(0);
      expect((await env.db.repos.videos.get(id))?.embeddingsRemovedAt).not.toBeNull();
    }
    // 10 February falls back to row deletes: the ended video's rows go, the unfinished one's stay.
    expect(await frameRows(env, februaryDone)).toBe(0);
    expect((await env.db.repos.videos.get(februaryDone))?.embeddingsRemovedAt).not.toBeNull();
    expect(await frameRows(env, februaryUnfinished)).toBe(FRAMES);
    expect((await env.db.repos.videos.get(februaryUnfinished))?.embeddingsRemovedAt).toBeNull();
    expect(result.embeddings).toEqual({ videos: 4, rows: FRAMES });
    // A later day is untouched, and so are scores (results retention is not configured).
    expect(await frameRows(env, june)).toBe(FRAMES);
    expect((await env.db.repos.videos.get(june))?.embeddingsRemovedAt).toBeNull();
    expect(await partitions(env, 'clip_scores')).toEqual([
      'clip_scores_d20270103',
      'clip_scores_d20270130',
      'clip_scores_d20270210',
      'clip_scores_d20270610',
    ]);
    const [firstRun] = await env.db.repos.scoring.runsOf(january[0] as string);
    expect(await env.db.repos.scoring.clipsOf(firstRun?.id ?? '')).toHaveLength(CLIPS);

    // Run again: nothing left to do; once the last video of 10 February has ended long enough, its day goes too.
    const again = await retention(t, { embeddingsDays: 30 }, '2027-06-15T12:00:00Z').run();
    expect(again.partitionsDropped).toEqual([]);
    expect(again.embeddings).toEqual({ videos: 0, rows: 0 });
    await env.db.pool.query(`update videos set status = 'failed', updated_at = '2027-03-01' where id = $1`, [
      februaryUnfinished,
    ]);
    const later = await retention(t, { embeddingsDays: 30 }, '2027-06-15T12:00:00Z').run();
    expect(later.partitionsDropped.map((p) => [p.partition, p.videos])).toEqual([['frame_embeddings_d20270210', 1]]); // the ended one's rows are gone already
    expect(later.embeddings).toEqual({ videos: 1, rows: 0 });
    expect(await partitions(env, 'frame_embeddings')).toEqual(['frame_embeddings_d20270610']);
  });
});

describe('results retention by day partition', () => {
  const t = setUp();

  it('drops the days of scores and embeddings whose videos all go, and deletes the videos', async () => {
    const { env } = t;
    const march = [
      await seed(env, '2028-03-01T20:00:00Z', '2028-03-02T06:00:00Z'),
      await seed(env, '2028-03-01T22:00:00Z', '2028-03-02T07:00:00Z'),
      await seed(env, '2028-03-05T22:00:00Z', '2028-03-06T06:00:00Z'),
    ];
    const aprilDone = await seed(env, '2028-04-01T22:00:00Z', '2028-04-02T06:00:00Z');
    const aprilUnfinished = await seed(env, '2028-04-01T23:00:00Z', null);

    const result = await retention(t, { resultsDays: 30 }, '2028-06-15T12:00:00Z').run();

    expect(result.partitionsDropped.map((p) => [p.partition, p.videos])).toEqual([
      ['clip_scores_d20280301', 2],
      ['clip_scores_d20280305', 1],
      ['frame_embeddings_d20280301', 2],
      ['frame_embeddings_d20280305', 1],
    ]);
    expect(result.videosRemoved).toBe(4);
    for (const id of [...march, aprilDone]) expect(await env.db.repos.videos.get(id)).toBeUndefined();
    expect(await partitions(env, 'clip_scores')).toEqual(['clip_scores_d20280401']);
    expect(await partitions(env, 'frame_embeddings')).toEqual(['frame_embeddings_d20280401']);
    // 1 April keeps its partitions: the ended video's rows went with it (cascade), the unfinished one's stay.
    const left = await env.db.pool.query<{ video_id: string; n: number }>(
      'select video_id, count(*)::int as n from clip_scores group by video_id',
    );
    expect(left.rows).toEqual([{ video_id: aprilUnfinished, n: CLIPS }]);
    expect(await frameRows(env, aprilUnfinished)).toBe(FRAMES);
  });
});
