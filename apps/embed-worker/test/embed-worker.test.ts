import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipTextEncoder, dot, getModelSpec, resolveModelPaths } from '@vad/clip';
import { type Config, createLogger } from '@vad/config';
import { startIngestWorker } from '@vad/ingest-worker';
import { SubmitService } from '@vad/pipeline';
import { addEmbedJob, createQueues, createRedisConnection, jobIds, type Queues, type RunningWorker } from '@vad/queue';
import { SegmentStore } from '@vad/storage';
import {
  createTestConfig,
  createTestDatabase,
  createTestRedis,
  ensureTinyModel,
  generateVideo,
  type TestDatabase,
  type TestRedis,
  waitFor,
} from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbedWorker, startEmbedWorker } from '../src/embed-worker.js';

let db: TestDatabase;
let redis: TestRedis;
let config: Config;
let connection: Redis;
let queues: Queues;
let submit: SubmitService;
let ingest: RunningWorker;
let embed: EmbedWorker;
const logger = createLogger({ log: { level: 'silent' } }, 'test');

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: redis.prefix,
    env: { VAD_MODEL: 'vad-test-tiny', VAD_SEGMENT_FRAMES: '8', VAD_EXECUTION_PROVIDER: 'cpu', VAD_BATCH_SIZE: '16' },
  });
  await ensureTinyModel(config.models.dir);
  connection = createRedisConnection(redis.url, 'worker');
  queues = createQueues(config, connection);
  submit = new SubmitService({ config, repos: db.repos, queues, binaries: resolveFfmpegBinaries(), logger });
  ingest = startIngestWorker(config, logger);
  embed = await startEmbedWorker(config, logger);
});

afterAll(async () => {
  await embed.close();
  await ingest.close();
  await queues.close();
  connection.disconnect();
  await Promise.all([db.destroy(), redis.destroy()]);
  await rm(config.storage.root, { recursive: true, force: true });
});

describe('embed worker', () => {
  it('stores one embedding per sampled frame, leaves no segment file, and the flow reaches aggregate', async () => {
    const path = join(config.storage.root, 'grey.mp4');
    await generateVideo(path, { durationS: 10, source: 'color=c=gray' });
    const { videoId } = await submit.submit({ path });
    await waitFor(
      'all embedded',
      () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'waiting' || s === 'prioritized',
    );

    const frames = await db.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny');
    expect(frames.map((f) => f.frameIndex)).toEqual([...Array(20).keys()]);
    expect(frames.map((f) => f.ptsMs)).toEqual([...Array(20).keys()].map((i) => i * 500));
    expect(await readdir(new SegmentStore(config.storage.root).videoDir(videoId))).toEqual([]);
    expect(embed.batcher.stats.frames).toBeGreaterThanOrEqual(20);

    // The grey scene is read as normal: the stored vectors carry the model's meaning.
    const rows = await db.pool.query<{ embedding: Buffer }>(
      'select embedding from frame_embeddings where video_id = $1 limit 1',
      [videoId],
    );
    const stored = rows.rows[0]?.embedding ?? Buffer.alloc(0);
    const vector = new Float32Array(stored.buffer, stored.byteOffset, stored.byteLength / 4);
    const spec = getModelSpec('vad-test-tiny');
    const text = await ClipTextEncoder.load(
      resolveModelPaths(config.models.dir, 'vad-test-tiny', spec, ['text']),
      spec,
      {
        provider: 'cpu',
        threads: 1,
        graphOptimization: 'all',
      },
    );
    const [normal, fire] = await text.encode(['normal activity', 'an explosion']);
    await text.close();
    expect(dot(vector, normal!)).toBeGreaterThan(0.9);
    expect(dot(vector, fire!)).toBeLessThan(0.3);
  });

  it('fails a job for another model at once, with the reason on the video, without touching other work', async () => {
    const path = join(config.storage.root, 'pattern.mp4');
    await generateVideo(path, { durationS: 4 });
    const { videoId } = await submit.submit({ path });
    await waitFor(
      'embedded',
      () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'waiting' || s === 'prioritized',
    );
    const job = await addEmbedJob(queues, {
      videoId,
      segmentIndex: 99,
      firstFrameIndex: 0,
      frameCount: 8,
      model: 'other-model',
    });
    await waitFor(
      'failed',
      () => queues.embed.getJobState(job.id ?? ''),
      (s) => s === 'failed',
    );
    expect((await queues.embed.getJob(job.id ?? ''))?.attemptsMade).toBe(1);
    const video = await db.repos.videos.get(videoId);
    expect(video?.error).toBe(
      'embedding segment 99 failed: this embed worker runs model vad-test-tiny, the job needs other-model',
    );
    expect((await db.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length).toBe(8);
  });
});
