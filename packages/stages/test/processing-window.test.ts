import { randomUUID } from 'node:crypto';
import { createLogger, loadConfig } from '@vad/config';
import { createQueues, createWorker, type QueueConnection, type Queues, queueConnectionOf } from '@vad/queue';
import { processingGate } from '@vad/schedule';
import { createTestRedis, type TestRedis, waitFor } from '@vad/testing';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobProcessor } from '../src/index.js';

const logger = createLogger({ log: { level: 'silent' } }, 'test');
let redis: TestRedis;
let connection: QueueConnection;
let queues: Queues;

beforeAll(() => {
  redis = createTestRedis();
  connection = queueConnectionOf(
    loadConfig({ envFile: false, env: { VAD_REDIS_URL: redis.url, VAD_QUEUE_PREFIX: redis.prefix } }),
    'worker',
  );
});

afterAll(async () => {
  await queues?.close();
  await connection.close();
  await redis.destroy();
});

describe('the processing window across real BullMQ workers', () => {
  it('holds jobs that are not urgent until the window opens, runs urgent ones at once', async () => {
    const config = loadConfig({
      envFile: false,
      env: {
        VAD_QUEUE_PREFIX: redis.prefix,
        VAD_PROCESSING_WINDOW: '22:00-06:00',
        VAD_TIMEZONE: 'Europe/Berlin',
      },
    });
    queues = createQueues(config, connection);
    // The workers' clock reads 21:59:56 in Berlin: the window opens in 4 seconds.
    const opensAt = DateTime.fromObject({ hour: 22 }, { zone: 'Europe/Berlin' }).plus({ days: 1 }).toMillis();
    const offset = opensAt - 4000 - Date.now();
    const gate = processingGate(config, () => Date.now() + offset);
    const ran = new Map<string, number>();
    const processor = createJobProcessor(
      {
        queue: 'ingest',
        handle: async (data) => {
          ran.set(data.videoId, Date.now() + offset);
        },
      },
      logger,
      { gate },
    );
    // Two workers, as on two machines: both apply the same window.
    const connections = [queueConnectionOf(config, 'worker'), queueConnectionOf(config, 'worker')];
    const workers = connections.map((c) => createWorker('ingest', processor, config, c, { concurrency: 2 }));
    for (const worker of workers) void worker.run();
    try {
      const nightly = [randomUUID(), randomUUID(), randomUUID()];
      const urgent = randomUUID();
      for (const videoId of nightly) await queues.ingest.add('ingest', { videoId }, { jobId: `ingest.${videoId}` });
      await queues.ingest.add('ingest', { videoId: urgent, urgent: true }, { jobId: `ingest.${urgent}` });

      await waitFor('urgent job done', async () => ran.has(urgent), Boolean, 3000, 20);
      expect(ran.get(urgent)).toBeLessThan(opensAt);
      await waitFor(
        'held',
        () => queues.ingest.getDelayedCount(),
        (n) => n === 3,
        3000,
        20,
      );
      const held = await queues.ingest.getJob(`ingest.${nightly[0]}`);
      expect(held?.attemptsMade).toBe(0);
      expect(ran.size).toBe(1);

      await waitFor(
        'window open',
        async () => ran.size,
        (n) => n === 4,
        15_000,
        50,
      );
      for (const videoId of nightly) expect(ran.get(videoId)).toBeGreaterThanOrEqual(opensAt);
      const done = await queues.ingest.getJob(`ingest.${nightly[0]}`);
      expect(done?.attemptsMade).toBeLessThanOrEqual(1);
      expect(await done?.getState()).toBe('completed');
    } finally {
      for (const worker of workers) await worker.close();
      for (const c of connections) await c.close();
    }
  });

  it('has no gate when no window is configured', () => {
    expect(processingGate(loadConfig({ envFile: false, env: {} }))).toBeUndefined();
  });
});
