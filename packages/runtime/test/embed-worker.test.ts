import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClipTextEncoder, getModelSpec, resolveModelPaths } from '@vad/clip';
import { decodeEmbedding } from '@vad/db';
import { addEmbedJob, jobIds } from '@vad/queue';
import { dot } from '@vad/scoring';
import { SegmentStore } from '@vad/storage';
import { generateVideo, waitFor } from '@vad/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EmbedWorker, startEmbedWorker, startIngestWorker } from '../src/index.js';
import { useRuntimeEnvironment } from './support.js';

const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '8', VAD_BATCH_SIZE: '16' });
let embed: EmbedWorker;

beforeAll(async () => {
  t.track(startIngestWorker(t.config, t.logger));
  embed = t.track(await startEmbedWorker(t.config, t.logger));
});

describe('embed worker', () => {
  it('stores one embedding per sampled frame, leaves no segment file, and the flow reaches aggregate', async () => {
    const path = join(t.config.storage.root, 'grey.mp4');
    await generateVideo(path, { durationS: 10, source: 'color=c=gray' });
    const { videoId } = await t.producer.submit.submit({ path });
    await waitFor(
      'all embedded',
      () => t.producer.queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'waiting' || s === 'prioritized',
    );

    const frames = await t.db.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny');
    expect(frames.map((f) => f.frameIndex)).toEqual([...Array(20).keys()]);
    expect(frames.map((f) => f.ptsMs)).toEqual([...Array(20).keys()].map((i) => i * 500));
    expect(await readdir(new SegmentStore(t.config.storage.root).videoDir(videoId))).toEqual([]);
    expect(embed.batcher.stats.frames).toBeGreaterThanOrEqual(20);

    // The grey scene is read as normal: the stored vectors carry the model's meaning.
    const rows = await t.db.pool.query<{ embedding: Buffer; dtype: 'float16' | 'float32' }>(
      'select embedding, dtype from frame_embeddings where video_id = $1 limit 1',
      [videoId],
    );
    // Stored as float16 by default: half the bytes of float32.
    expect(rows.rows[0]?.dtype).toBe('float16');
    const stored = rows.rows[0]?.embedding ?? Buffer.alloc(0);
    const vector = decodeEmbedding(stored, 'float16');
    expect(stored.byteLength).toBe(vector.length * 2);
    const spec = getModelSpec('vad-test-tiny');
    const text = await ClipTextEncoder.load(
      resolveModelPaths(t.config.models.dir, 'vad-test-tiny', spec, ['text']),
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
    const path = join(t.config.storage.root, 'pattern.mp4');
    await generateVideo(path, { durationS: 4 });
    const { videoId } = await t.producer.submit.submit({ path });
    await waitFor(
      'embedded',
      () => t.producer.queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'waiting' || s === 'prioritized',
    );
    const job = await addEmbedJob(t.producer.queues, {
      videoId,
      segmentIndex: 99,
      firstFrameIndex: 0,
      frameCount: 8,
      model: 'other-model',
    });
    await waitFor(
      'failed',
      () => t.producer.queues.embed.getJobState(job.id ?? ''),
      (s) => s === 'failed',
    );
    expect((await t.producer.queues.embed.getJob(job.id ?? ''))?.attemptsMade).toBe(1);
    const video = await t.db.repos.videos.get(videoId);
    expect(video?.error).toBe(
      'embedding segment 99 failed: this embed worker runs model vad-test-tiny, the job needs other-model',
    );
    expect((await t.db.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length).toBe(8);
  });
});
