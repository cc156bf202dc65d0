import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@vad/config';
import { buildModel } from '@vad/models';
import { createTestEnvironment, generateVideo, type TestDatabase, type TestEnvironment, waitFor } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregateService, ProducerContext, startRoles } from '../src/index.js';

let env: TestEnvironment;
let db: TestDatabase;
let config: Config;
let producer: ProducerContext;

beforeAll(async () => {
  env = await createTestEnvironment({ env: { VAD_SEGMENT_FRAMES: '32' } });
  ({ db, config } = env);
  producer = env.track(new ProducerContext(config, env.logger, { poolSize: 2, applicationName: 'vad-test' }));
  env.track(await startRoles(['ingest', 'embed', 'aggregate'], config, env.logger));
});

afterAll(() => env.destroy());

const iou = (a: [number, number], b: [number, number]) => {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  return inter / (Math.max(a[1], b[1]) - Math.min(a[0], b[0]));
};

describe('aggregate worker (whole pipeline in one process)', () => {
  it('finds the fire-like interval of a plain scene as one event, labelled as fire, with a thumbnail', async () => {
    const path = join(config.storage.root, 'yard.mp4');
    await generateVideo(path, {
      durationS: 60,
      source: 'color=c=gray',
      filters: "drawbox=x=0:y=0:w=iw:h=ih:color=orangered:t=fill:enable='between(t,20,30)'",
    });
    const recordedAt = new Date('2026-11-28T23:00:00Z');
    const { videoId } = await producer.submit.submit({ path, camera: 'yard', recordedAt });
    const video = await waitFor(
      'done',
      () => db.repos.videos.get(videoId),
      (v) => v?.status === 'done' || v?.status === 'failed',
      120_000,
    );
    expect(video?.error).toBeNull();

    const run = await db.repos.scoring.latestRun(videoId);
    if (!run) throw new Error('no scoring run');
    const events = await db.repos.scoring.eventsOf(run.id);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(iou([event!.startMs, event!.endMs], [20_000, 30_000])).toBeGreaterThanOrEqual(0.8);
    expect(['Explosion', 'Arson']).toContain(event!.label);
    expect(event!.startAt?.toISOString()).toBe(new Date(recordedAt.getTime() + event!.startMs).toISOString());
    expect(event!.thumbnailPath && existsSync(join(config.storage.root, event!.thumbnailPath))).toBe(true);

    const clips = await db.repos.scoring.clipsOf(run.id);
    const plain = clips.filter((c) => c.endMs <= 18_000 || c.startMs >= 34_000);
    expect(plain.length).toBeGreaterThan(5);
    expect(Math.max(...plain.map((c) => c.anomalyScore))).toBeLessThan(config.scoring.threshold);
    expect(clips.every((c) => c.validFrames === 16 || c === clips.at(-1))).toBe(true);

    // The same embeddings through a learned temporal head (onnx strategy): a new run, the same finding.
    await buildModel('vad-test-head', config.models.dir);
    const headConfig: Config = {
      ...config,
      scoring: {
        ...config.scoring,
        aggregator: 'onnx',
        temporalHead: join(config.models.dir, 'vad-test-head/head.onnx'),
      },
    };
    const { service, close } = createAggregateService(headConfig, db.repos, env.logger);
    const result = await service.aggregate(
      { videoId },
      { jobId: 'test', attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
    );
    await close();
    const headEvents = await db.repos.scoring.eventsOf(result.runId);
    expect(headEvents).toHaveLength(1);
    expect(iou([headEvents[0]!.startMs, headEvents[0]!.endMs], [20_000, 30_000])).toBeGreaterThanOrEqual(0.8);
    expect((await db.repos.scoring.latestRun(videoId))?.aggregator).toBe('onnx');
  });

  it('a 3-second video becomes one padded clip with its valid-frame count', async () => {
    const path = join(config.storage.root, 'short.mp4');
    await generateVideo(path, { durationS: 3, source: 'color=c=gray' });
    const { videoId } = await producer.submit.submit({ path });
    await waitFor(
      'done',
      () => db.repos.videos.get(videoId),
      (v) => v?.status === 'done',
      60_000,
    );
    const run = await db.repos.scoring.latestRun(videoId);
    const clips = await db.repos.scoring.clipsOf(run!.id);
    expect(clips).toHaveLength(1);
    expect(clips[0]).toMatchObject({ validFrames: 6, label: expect.any(String) });
    expect(clips[0]!.anomalyScore).toBeLessThan(0.5);
  });
});
