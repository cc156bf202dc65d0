import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, createLogger } from '@vad/config';
import { SubmitService } from '@vad/pipeline';
import { createQueues, createRedisConnection, type Queues } from '@vad/queue';
import {
  createTestConfig,
  createTestDatabase,
  createTestRedis,
  generateVideo,
  type TestDatabase,
  type TestRedis,
  waitFor,
} from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from '../src/ingest-worker.js';

const logger = createLogger({ log: { level: 'silent' } }, 'test');
let db: TestDatabase;
let redis: TestRedis;
let config: Config;
let connection: Redis;
let queues: Queues;
let submit: SubmitService;
let folder: string;

beforeAll(async () => {
  [db, redis] = await Promise.all([createTestDatabase(), Promise.resolve(createTestRedis())]);
  config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: redis.prefix,
    env: { VAD_INPUT_SIZE: '32', VAD_SEGMENT_FRAMES: '64' },
  });
  connection = createRedisConnection(redis.url, 'worker');
  queues = createQueues(config, connection);
  submit = new SubmitService({ config, repos: db.repos, queues, binaries: resolveFfmpegBinaries(), logger });
  folder = join(config.storage.root, 'fair');
  await mkdir(folder, { recursive: true });
  const colours = ['red', 'green', 'blue', 'yellow', 'white', 'black', 'orange'];
  await Promise.all(
    colours.map((c) =>
      generateVideo(join(folder, `${c}.mp4`), { durationS: 1, width: 64, height: 64, source: `color=c=${c}` }),
    ),
  );
});

afterAll(async () => {
  await queues.close();
  connection.disconnect();
  await Promise.all([db.destroy(), redis.destroy()]);
  await rm(config.storage.root, { recursive: true, force: true });
});

describe('fair scheduling between cameras', () => {
  it("one camera's five uploads do not starve another camera's one; an urgent upload goes first", async () => {
    await queues.ingest.pause();
    const busy = [];
    for (const c of ['red', 'green', 'blue', 'yellow', 'white']) {
      busy.push((await submit.submit({ path: join(folder, `${c}.mp4`), camera: 'parking' })).videoId);
    }
    const lone = (await submit.submit({ path: join(folder, 'black.mp4'), camera: 'door' })).videoId;
    const urgent = (await submit.submit({ path: join(folder, 'orange.mp4'), camera: 'parking', urgent: true })).videoId;
    const priorities = await Promise.all(
      [...busy, lone, urgent].map(async (id) => (await db.repos.videos.get(id))?.priority),
    );
    expect(priorities).toEqual([2, 3, 4, 5, 6, 2, 1]);

    const worker = startIngestWorker({ ...config, ingest: { ...config.ingest, concurrency: 1 } }, logger);
    await queues.ingest.resume();
    try {
      const all = [...busy, lone, urgent];
      const rows = await waitFor(
        'all ingested',
        () => Promise.all(all.map((id) => db.repos.videos.get(id))),
        (videos) => videos.every((v) => v?.ingestStartedAt),
        30_000,
      );
      const order = rows
        .map((v) => ({ id: v?.id, at: v?.ingestStartedAt?.getTime() ?? 0 }))
        .sort((a, b) => a.at - b.at)
        .map((v) => v.id);
      expect(order[0]).toBe(urgent);
      expect(order[1]).toBe(busy[0]);
      expect(order[2]).toBe(lone);
      expect(order.slice(3)).toEqual(busy.slice(1));
    } finally {
      await worker.close();
    }
  });

  it("a camera's weight sets its share", async () => {
    const camera = await db.repos.cameras.setWeight('lobby', 200);
    expect(camera.weight).toBe(200);
    const listed = await db.repos.cameras.list();
    expect(listed.find((c) => c.name === 'parking')).toMatchObject({ weight: 100, done: 0 });
  });
});
