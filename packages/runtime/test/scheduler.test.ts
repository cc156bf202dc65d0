import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, Logger } from '@vad/config';
import { toBytes } from '@vad/db';
import { RetentionService } from '@vad/operations';
import {
  createMaintenanceQueue,
  createQueues,
  type QueueConnection,
  queueConnectionOf,
  RECONCILE_SCHEDULER_ID,
  RETENTION_SCHEDULER_ID,
  SEARCH_INDEX_SCHEDULER_ID,
} from '@vad/queue';
import { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
import { createTestEnvironment, type TestDatabase, type TestEnvironment, waitForCompleted } from '@vad/testing';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler } from '../src/index.js';

let env: TestEnvironment;
let logger: Logger;
let db: TestDatabase;
let config: Config;
let connection: QueueConnection;
let maintenance: Queue;

/** A finished video, `daysAgo` old, with 4 frame embeddings, one event with a thumbnail and a clip, and its source file. */
async function seedVideo(daysAgo: number, source: string) {
  await writeFile(source, 'recording');
  const { video } = await db.repos.videos.insertOrGet({
    sourceUri: source,
    sha256: randomUUID(),
    bytes: 9,
    durationMs: 2000,
    recordedAt: new Date(),
    model: 'vad-test-tiny',
    pipelineConfig: { ...config.pipeline, inputSize: 224 },
    configHash: 'c',
  });
  await db.repos.frameEmbeddings.upsertMany(
    [0, 1, 2, 3].map((i) => ({
      videoId: video.id,
      model: 'vad-test-tiny',
      frameIndex: i,
      ptsMs: i * 500,
      embedding: toBytes(new Float32Array([1, 0, 0])),
    })),
  );
  const runId = randomUUID();
  const thumbnail = join('thumbnails', video.id, runId, '0.jpg');
  await mkdir(join(config.storage.root, 'thumbnails', video.id, runId), { recursive: true });
  await writeFile(join(config.storage.root, thumbnail), 'jpeg');
  await db.repos.scoring.saveRun(
    { id: runId, videoId: video.id, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash: 'h' },
    [],
    [
      {
        startMs: 0,
        endMs: 1000,
        peakMs: 500,
        startAt: null,
        endAt: null,
        peakScore: 0.9,
        label: 'Fighting',
        thumbnailPath: thumbnail,
      },
    ],
    null,
    { markVideoDone: true },
  );
  const [event] = await db.repos.scoring.eventsOf(runId);
  const clip = new EventClipStore(config.storage.root).absolutePath(video.id, runId, event?.id ?? 0);
  await mkdir(join(clip, '..'), { recursive: true });
  await writeFile(clip, 'mp4');
  const ago = `now() - interval '${daysAgo} days'`;
  await db.pool.query(`update videos set finished_at = ${ago} where id = $1`, [video.id]);
  await db.pool.query(`update anomaly_events set created_at = ${ago} where video_id = $1`, [video.id]);
  return { id: video.id, thumbnail: join(config.storage.root, thumbnail), clip, source };
}

const embeddingRows = async (videoId: string) =>
  (await db.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length;

beforeAll(async () => {
  env = await createTestEnvironment({
    tinyModel: false,
    env: {
      VAD_TIMEZONE: 'Europe/Berlin',
      VAD_RETENTION_AT: '12:30',
      VAD_RETAIN_EMBEDDINGS_DAYS: '30',
      VAD_RETAIN_THUMBNAILS_DAYS: '30',
      VAD_RETAIN_SOURCES_DAYS: '30',
    },
  });
  ({ db, config, logger } = env);
  connection = queueConnectionOf(config, 'worker');
  maintenance = createMaintenanceQueue(connection);
  env.track({ close: () => connection.close() });
  env.track(maintenance);
  env.track(await startScheduler(config, logger));
});

afterAll(() => env.destroy());

describe('scheduler and retention', () => {
  it('keeps one daily retention job scheduled in the configured zone, one reconciler and the hourly search index update, also when started twice', async () => {
    const again = await startScheduler(config, logger);
    await again.close();
    const schedulers = await maintenance.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(
      [RECONCILE_SCHEDULER_ID, RETENTION_SCHEDULER_ID, SEARCH_INDEX_SCHEDULER_ID].sort(),
    );
    expect(schedulers.find((s) => s.key === SEARCH_INDEX_SCHEDULER_ID)).toMatchObject({ every: 3_600_000 });
    const retention = schedulers.find((s) => s.key === RETENTION_SCHEDULER_ID);
    expect(retention).toMatchObject({ pattern: '30 12 * * *', tz: 'Europe/Berlin' });
    expect(schedulers.find((s) => s.key === RECONCILE_SCHEDULER_ID)).toMatchObject({ every: 300_000 });
    const next = new Date(retention?.next ?? 0);
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
    }).format(next);
    expect(local).toBe('12:30');
  });

  it('deletes old embeddings, thumbnails and uploaded sources, keeps recent ones, results, and files outside storage', async () => {
    const uploads = join(config.storage.root, 'uploads', 'incoming');
    const outside = join(config.storage.root, '..', `vad-camera-share-${randomUUID()}`);
    await mkdir(uploads, { recursive: true });
    await mkdir(outside, { recursive: true });
    try {
      const old = await seedVideo(40, join(uploads, 'old.mp4'));
      const oldOnShare = await seedVideo(40, join(outside, 'camera.mp4'));
      await mkdir(join(config.storage.root, 'cam'), { recursive: true });
      const oldRegistered = await seedVideo(40, join(config.storage.root, 'cam', 'registered.mp4'));
      const recent = await seedVideo(2, join(uploads, 'recent.mp4'));

      const retentionRun = await maintenance.add('retention', {});
      await waitForCompleted('retention ran', retentionRun);

      expect(await embeddingRows(old.id)).toBe(0);
      expect(await embeddingRows(oldOnShare.id)).toBe(0);
      expect(await embeddingRows(recent.id)).toBe(4);
      expect(existsSync(old.thumbnail)).toBe(false);
      expect(existsSync(recent.thumbnail)).toBe(true);
      expect(existsSync(old.clip)).toBe(false); // clips go with thumbnails
      expect(existsSync(recent.clip)).toBe(true);
      const [oldEvent] = await db.repos.scoring.eventsOf((await db.repos.scoring.latestRun(old.id))?.id ?? '');
      expect(oldEvent?.thumbnailPath).toBeNull();
      expect(existsSync(old.source)).toBe(false);
      expect(existsSync(oldOnShare.source)).toBe(true); // never outside the storage root
      expect(existsSync(oldRegistered.source)).toBe(true); // nor a file registered by path: only uploads
      expect(existsSync(recent.source)).toBe(true);
      expect((await db.repos.videos.get(old.id))?.status).toBe('done'); // results kept: not configured
      expect((await db.repos.videos.get(old.id))?.embeddingsRemovedAt).not.toBeNull();

      // With results retention configured too, old videos go with their scores and events.
      const queues = createQueues(config, connection);
      try {
        const withResults = { ...config, retention: { ...config.retention, resultsDays: 30 } };
        const result = await new RetentionService({
          config: withResults,
          repos: db.repos,
          queues,
          thumbnails: new ThumbnailStore(config.storage.root),
          clips: new EventClipStore(config.storage.root),
          segments: new SegmentStore(config.storage.root),
          logger,
        }).run();
        expect(result.videosRemoved).toBe(3);
        expect(await db.repos.videos.get(old.id)).toBeUndefined();
        expect(await db.repos.videos.get(recent.id)).toBeDefined();
        expect(existsSync(join(config.storage.root, 'thumbnails', old.id))).toBe(false);
        expect(existsSync(join(config.storage.root, 'clips', old.id))).toBe(false);
        expect(existsSync(recent.clip)).toBe(true);
      } finally {
        await queues.close();
      }
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
