import { randomUUID } from 'node:crypto';
import { loadConfig } from '@vad/config';
import { createTestRedis, waitFor } from '@vad/testing';
import { UnrecoverableError, type Worker } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addEmbedJob,
  addVideoFlow,
  createQueues,
  createRedisConnection,
  createWorker,
  jobExists,
  jobIds,
  parseJobData,
} from '../src/index.js';

const redis = createTestRedis();
const config = loadConfig({
  envFile: false,
  env: { VAD_QUEUE_PREFIX: redis.prefix, VAD_JOB_ATTEMPTS: '3', VAD_JOB_BACKOFF_MS: '50' },
});
const producer = createRedisConnection(redis.url, 'producer');
const workerConnection = createRedisConnection(redis.url, 'worker');
const queues = createQueues(config, producer);
const workers: Pick<Worker, 'run' | 'close'>[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await queues.close();
  producer.disconnect();
  workerConnection.disconnect();
  await redis.destroy();
});

describe('parseJobData', () => {
  it('accepts a valid payload and rejects a bad one as unrecoverable', () => {
    const videoId = randomUUID();
    expect(parseJobData('ingest', { videoId })).toEqual({ videoId });
    expect(() => parseJobData('embed', { videoId, segmentIndex: -1 })).toThrow(UnrecoverableError);
    expect(() => parseJobData('embed', { videoId, segmentIndex: -1 })).toThrow(/segmentIndex/);
  });
});

describe('video flow', () => {
  it('uses one hash-tagged prefix for every queue', () => {
    expect(queues.ingest.qualifiedName).toBe(`${redis.prefix}:ingest`);
    expect(queues.aggregate.qualifiedName).toBe(`${redis.prefix}:aggregate`);
  });

  it('runs aggregate only after ingest and every embed job added during ingest', async () => {
    const videoId = randomUUID();
    const order: string[] = [];
    workers.push(
      createWorker(
        'ingest',
        async (job) => {
          order.push('ingest');
          for (let segmentIndex = 0; segmentIndex < 3; segmentIndex++) {
            await addEmbedJob(queues, {
              videoId: job.data.videoId,
              segmentIndex,
              firstFrameIndex: segmentIndex * 4,
              frameCount: 4,
              model: 'm',
            });
          }
        },
        config,
        workerConnection,
        { concurrency: 1 },
      ),
      createWorker(
        'embed',
        async (job) => {
          await new Promise((r) => setTimeout(r, 100));
          order.push(`embed ${job.data.segmentIndex}`);
        },
        config,
        workerConnection,
        { concurrency: 2 },
      ),
      createWorker(
        'aggregate',
        async () => {
          order.push('aggregate');
        },
        config,
        workerConnection,
        { concurrency: 1 },
      ),
    );
    for (const w of workers) void w.run();

    await addVideoFlow(queues, config, videoId);
    await addVideoFlow(queues, config, videoId); // a re-add is a no-op
    await waitFor(
      'job state',
      () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'completed',
    );
    expect(order[0]).toBe('ingest');
    expect(order.at(-1)).toBe('aggregate');
    expect(order.filter((o) => o.startsWith('embed')).sort()).toEqual(['embed 0', 'embed 1', 'embed 2']);
    expect(order).toHaveLength(5);
  });

  it('fails the parent when a child fails for good, without retrying bad input', async () => {
    const videoId = randomUUID();
    let attempts = 0;
    let aggregated = false;
    workers.push(
      createWorker(
        'ingest',
        async () => {
          attempts += 1;
          throw new UnrecoverableError('contains no video stream');
        },
        config,
        workerConnection,
        { concurrency: 1 },
      ),
      createWorker(
        'aggregate',
        async () => {
          aggregated = true;
        },
        config,
        workerConnection,
        { concurrency: 1 },
      ),
    );
    for (const w of workers) void w.run();
    await addVideoFlow(queues, config, videoId);
    await waitFor(
      'job state',
      () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'failed',
    );
    expect(attempts).toBe(1);
    expect(aggregated).toBe(false);
    const ingest = await queues.ingest.getJob(jobIds.ingest(videoId));
    expect(ingest?.failedReason).toBe('contains no video stream');
  });

  it('retries a transient fault with backoff', async () => {
    const videoId = randomUUID();
    let attempts = 0;
    workers.push(
      createWorker(
        'ingest',
        async () => {
          attempts += 1;
          if (attempts < 3) throw new Error('connection reset');
        },
        config,
        workerConnection,
        { concurrency: 1 },
      ),
    );
    for (const w of workers) void w.run();
    await addVideoFlow(queues, config, videoId);
    await waitFor(
      'job state',
      () => queues.ingest.getJobState(jobIds.ingest(videoId)),
      (s) => s === 'completed',
    );
    expect(attempts).toBe(3);
    expect(await jobExists(queues.ingest, jobIds.ingest(videoId))).toBe(true);
    expect(await jobExists(queues.ingest, jobIds.ingest(randomUUID()))).toBe(false);
  });
});
