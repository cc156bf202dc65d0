import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateVideo, waitFor } from '@vad/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from '../src/index.js';
import { useRuntimeEnvironment } from './support.js';

const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '64' });
let folder: string;

beforeAll(async () => {
  folder = join(t.config.storage.root, 'fair');
  await mkdir(folder, { recursive: true });
  const colours = ['red', 'green', 'blue', 'yellow', 'white', 'black', 'orange'];
  await Promise.all(
    colours.map((c) =>
      generateVideo(join(folder, `${c}.mp4`), { durationS: 1, width: 64, height: 64, source: `color=c=${c}` }),
    ),
  );
});

describe('fair scheduling between cameras', () => {
  it("one camera's five uploads do not starve another camera's one; an urgent upload goes first", async () => {
    await t.producer.queues.ingest.pause();
    const busy = [];
    for (const c of ['red', 'green', 'blue', 'yellow', 'white']) {
      busy.push((await t.producer.submit.submit({ path: join(folder, `${c}.mp4`), camera: 'parking' })).videoId);
    }
    const lone = (await t.producer.submit.submit({ path: join(folder, 'black.mp4'), camera: 'door' })).videoId;
    const urgent = (
      await t.producer.submit.submit({ path: join(folder, 'orange.mp4'), camera: 'parking', urgent: true })
    ).videoId;
    const priorities = await Promise.all(
      [...busy, lone, urgent].map(async (id) => (await t.db.repos.videos.get(id))?.priority),
    );
    expect(priorities).toEqual([2, 3, 4, 5, 6, 2, 1]);

    const worker = startIngestWorker({ ...t.config, ingest: { ...t.config.ingest, concurrency: 1 } }, t.logger);
    await t.producer.queues.ingest.resume();
    try {
      const all = [...busy, lone, urgent];
      const rows = await waitFor(
        'all ingested',
        () => Promise.all(all.map((id) => t.db.repos.videos.get(id))),
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
    const camera = await t.db.repos.cameras.setWeight('lobby', 200);
    expect(camera.weight).toBe(200);
    const listed = await t.db.repos.cameras.list();
    expect(listed.find((c) => c.name === 'parking')).toMatchObject({ weight: 100, done: 0 });
  });
});
