import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipTextEncoder, getModelSpec, resolveModelPaths } from '@vad/clip';
import type { Config } from '@vad/config';
import { addEmbedJob, jobIds, type Queues } from '@vad/queue';
import { dot } from '@vad/scoring';
import { SegmentStore } from '@vad/storage';
import { createTestEnvironment, generateVideo, type TestDatabase, type TestEnvironment, waitFor } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbedWorker, ProducerContext, startEmbedWorker, startIngestWorker } from '../src/index.js';

let env: TestEnvironment;
let db: TestDatabase;
let config: Config;
let producer: ProducerContext;
let queues: Queues;
let embed: EmbedWorker;

beforeAll(async () => {
  env = await createTestEnvironment({ env: { VAD_SEGMENT_FRAMES: '8', VAD_BATCH_SIZE: '16' } });
  ({ db, config } = env);
  producer = env.track(new ProducerContext(config, env.logger, { poolSize: 2, applicationName: 'vad-test' }));
  queues = producer.queues;
  env.track(startIngestWorker(config, env.logger));
  embed = env.track(await startEmbedWorker(config, env.logger));
});

afterAll(() => env.destroy());

describe('embed worker', () => {
  it('stores one embedding per sampled frame, leaves no segment file, and the flow reaches aggregate', async () => {
    const path = join(config.storage.root, 'grey.mp4');
    await generateVideo(path, { durationS: 10, source: 'color=c=gray' });
    const { videoId } = await producer.submit.submit({ path });
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
    const { videoId } = await producer.submit.submit({ path });
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
