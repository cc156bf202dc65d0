import { randomUUID } from 'node:crypto';
import { loadConfig } from '@vad/config';
import { createTestDatabase, createTestRedis, TEST_QUEUE_BACKEND, waitFor } from '@vad/testing';
import { UnrecoverableError, type Worker } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  addEmbedJob,
  addVideoFlow,
  childFailures,
  createQueues,
  createWorker,
  jobExists,
  jobIds,
  migrateQueueSchema,
  parseJobData,
  parseJobId,
  type QueueName,
  queueConnectionOf,
  queueSchemaOf,
  type VadProcessor,
} from '../src/index.js';

// Run on Redis, and on PostgreSQL with VAD_TEST_QUEUE_BACKEND=postgres (npm test runs both).
const redis = createTestRedis();
const database = TEST_QUEUE_BACKEND === 'postgres' ? await createTestDatabase() : undefined;
const config = loadConfig({
  envFile: false,
  env: {
    VAD_REDIS_URL: redis.url,
    ...(database ? { VAD_DATABASE_URL: database.url } : {}),
    VAD_QUEUE_BACKEND: TEST_QUEUE_BACKEND,
    VAD_QUEUE_PREFIX: redis.prefix,
    VAD_JOB_ATTEMPTS: '3',
    VAD_JOB_BACKOFF_MS: '50',
  },
});
await migrateQueueSchema(config);
const producer = queueConnectionOf(config, 'producer');
const workerConnection = queueConnectionOf(config, 'worker');
const queues = createQueues(config, producer);
const workers: Pick<Worker, 'run' | 'close'>[] = [];

/** A worker of one queue running `handle` until the end of the test. */
function startWorker<Q extends QueueName>(queue: Q, handle: VadProcessor<Q>, concurrency = 1): void {
  const worker = createWorker(queue, handle, config, workerConnection, { concurrency });
  workers.push(worker);
  void worker.run();
}

const waitForState = (queue: QueueName, jobId: string, state: string) =>
  waitFor(
    `${jobId} ${state}`,
    () => queues[queue].getJobState(jobId),
    (s) => s === state,
  );

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await queues.close();
  await producer.close();
  await workerConnection.close();
  await redis.destroy();
  await database?.destroy();
});

describe('parseJobData', () => {
  it('accepts a valid payload and rejects a bad one as unrecoverable', () => {
    const videoId = randomUUID();
    expect(parseJobData('ingest', { videoId })).toEqual({ videoId });
    expect(() => parseJobData('embed', { videoId, segmentIndex: -1 })).toThrow(UnrecoverableError);
    expect(() => parseJobData('embed', { videoId, segmentIndex: -1 })).toThrow(/segmentIndex/);
  });
});

describe('parseJobId', () => {
  it('reads back what jobIds made, and nothing else', () => {
    const videoId = randomUUID();
    expect(parseJobId(jobIds.ingest(videoId))).toEqual({ kind: 'ingest', videoId });
    expect(parseJobId(jobIds.aggregate(videoId))).toEqual({ kind: 'aggregate', videoId });
    expect(parseJobId(jobIds.embed(videoId, 12))).toEqual({ kind: 'embed', videoId, segmentIndex: 12 });
    expect(parseJobId(jobIds.rescore(videoId, 'r1'))).toEqual({ kind: 'rescore', videoId, requestId: 'r1' });
    for (const id of [
      undefined,
      'repeat:abc',
      `ingest.${videoId}.3`,
      `embed.${videoId}`,
      `embed.${videoId}.x`,
      'rescore.nope.1',
    ])
      expect(parseJobId(id)).toBeUndefined();
  });
});

describe('video flow', () => {
  it.runIf(TEST_QUEUE_BACKEND === 'redis')('uses one hash-tagged prefix for every queue', () => {
    expect(queues.ingest.qualifiedName).toBe(`${redis.prefix}:ingest`);
    expect(queues.aggregate.qualifiedName).toBe(`${redis.prefix}:aggregate`);
  });

  it.runIf(TEST_QUEUE_BACKEND === 'postgres')('keeps the queues in the schema the prefix names', async () => {
    expect(queues.connection.backend).toBe('postgres');
    const schema = queueSchemaOf(redis.prefix);
    const rows = await database?.pool.query('select count(*)::int as n from pg_namespace where nspname = $1', [schema]);
    expect(rows?.rows[0]).toEqual({ n: 1 });
  });

  it('runs aggregate only after ingest and every embed job added during ingest', async () => {
    const videoId = randomUUID();
    const order: string[] = [];
    startWorker('ingest', async (job) => {
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
    });
    startWorker(
      'embed',
      async (job) => {
        await new Promise((r) => setTimeout(r, 100));
        order.push(`embed ${job.data.segmentIndex}`);
      },
      2,
    );
    startWorker('aggregate', async () => {
      order.push('aggregate');
    });

    await addVideoFlow(queues, config, videoId);
    await addVideoFlow(queues, config, videoId); // a re-add is a no-op
    await waitForState('aggregate', jobIds.aggregate(videoId), 'completed');
    expect(order[0]).toBe('ingest');
    expect(order.at(-1)).toBe('aggregate');
    expect(order.filter((o) => o.startsWith('embed')).sort()).toEqual(['embed 0', 'embed 1', 'embed 2']);
    expect(order).toHaveLength(5);

    // The workers' throughput metrics (queue health's rates and chart) say when the count was last taken, on
    // either backend (BullMQ 6.7's PostgreSQL backend leaves that out; QueueConnection.metrics reads it).
    const metrics = await queues.connection.metrics(queues.embed, 'completed', 0, 59);
    expect(metrics.meta.count).toBeGreaterThanOrEqual(3);
    expect(metrics.meta.prevTS).toBeGreaterThan(Date.now() - 60_000);
    expect(metrics.meta.prevTS).toBeLessThanOrEqual(Date.now());
  });

  it('fails the parent when a child fails for good, without retrying bad input; the parent names the child', async () => {
    const videoId = randomUUID();
    let attempts = 0;
    let aggregated = false;
    startWorker('ingest', async () => {
      attempts += 1;
      throw new UnrecoverableError('contains no video stream');
    });
    startWorker('aggregate', async () => {
      aggregated = true;
    });
    await addVideoFlow(queues, config, videoId);
    await waitForState('aggregate', jobIds.aggregate(videoId), 'failed');
    expect(attempts).toBe(1);
    expect(aggregated).toBe(false);
    const ingest = await queues.ingest.getJob(jobIds.ingest(videoId));
    expect(ingest?.failedReason).toBe('contains no video stream');
    // The child's own reason, read through BullMQ's dependencies of the failed parent.
    const parent = await queues.aggregate.getJob(jobIds.aggregate(videoId));
    expect(await childFailures(parent!, queues)).toEqual([
      { queue: 'ingest', jobId: jobIds.ingest(videoId), reason: 'contains no video stream', unrecoverable: true },
    ]);
  });

  it('retries a transient fault with backoff', async () => {
    const videoId = randomUUID();
    let attempts = 0;
    startWorker('ingest', async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('connection reset');
    });
    await addVideoFlow(queues, config, videoId);
    await waitForState('ingest', jobIds.ingest(videoId), 'completed');
    expect(attempts).toBe(3);
    expect(await jobExists(queues.ingest, jobIds.ingest(videoId))).toBe(true);
    expect(await jobExists(queues.ingest, jobIds.ingest(randomUUID()))).toBe(false);
  });
});
