import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '@vad/config';
import { buildModel } from '@vad/models';
import { jobIds } from '@vad/queue';
import { EventClipStore } from '@vad/storage';
import { generateIncidentVideo, generateVideo, waitFor } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAggregateService, pipelineConfigOf, startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '32' });

beforeAll(async () => {
  t.track(await startRoles(['ingest', 'embed', 'aggregate'], t.config, t.logger));
});

const iou = (a: [number, number], b: [number, number]) => {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  return inter / (Math.max(a[1], b[1]) - Math.min(a[0], b[0]));
};

describe('aggregate worker (whole pipeline in one process)', () => {
  it('finds the fire-like interval of a plain scene as one event, labelled as fire, with a thumbnail', async () => {
    const path = join(t.config.storage.root, 'yard.mp4');
    await generateIncidentVideo(path, { durationS: 60, from: 20, to: 30 });
    const recordedAt = new Date('2026-11-28T23:00:00Z');
    const { videoId } = await t.producer.submit.submit({ path, camera: 'yard', recordedAt });
    const video = await finished(t, videoId, 120_000);
    expect(video?.error).toBeNull();

    const run = await t.db.repos.scoring.latestRun(videoId);
    if (!run) throw new Error('no scoring run');
    const events = await t.db.repos.scoring.eventsOf(run.id);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(iou([event!.startMs, event!.endMs], [20_000, 30_000])).toBeGreaterThanOrEqual(0.8);
    expect(['Explosion', 'Arson']).toContain(event!.label);
    expect(event!.startAt?.toISOString()).toBe(new Date(recordedAt.getTime() + event!.startMs).toISOString());
    expect(event!.thumbnailPath && existsSync(join(t.config.storage.root, event!.thumbnailPath))).toBe(true);

    const clips = await t.db.repos.scoring.clipsOf(run.id);
    const plain = clips.filter((c) => c.endMs <= 18_000 || c.startMs >= 34_000);
    expect(plain.length).toBeGreaterThan(5);
    expect(Math.max(...plain.map((c) => c.anomalyScore))).toBeLessThan(t.config.scoring.threshold);
    expect(clips.every((c) => c.validFrames === 16 || c === clips.at(-1))).toBe(true);

    // The same embeddings through a learned temporal head (onnx strategy): a new run, the same finding.
    await buildModel('vad-test-head', t.config.models.dir);
    const headConfig: Config = {
      ...t.config,
      scoring: {
        ...t.config.scoring,
        aggregator: 'onnx',
        temporalHead: join(t.config.models.dir, 'vad-test-head/head.onnx'),
      },
    };
    const { service, close } = createAggregateService(headConfig, t.db.repos, t.logger);
    const result = await service.aggregate(
      { videoId },
      { jobId: 'test', attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
    );
    await close();
    const headEvents = await t.db.repos.scoring.eventsOf(result.runId);
    expect(headEvents).toHaveLength(1);
    expect(iou([headEvents[0]!.startMs, headEvents[0]!.endMs], [20_000, 30_000])).toBeGreaterThanOrEqual(0.8);
    expect((await t.db.repos.scoring.latestRun(videoId))?.aggregator).toBe('onnx');

    // Scored again as at first: the same config replaces the first run, and its thumbnails and clips go with it.
    const clip = new EventClipStore(t.config.storage.root).absolutePath(videoId, run.id, event!.id);
    await mkdir(dirname(clip), { recursive: true });
    await writeFile(clip, 'mp4');
    const again = createAggregateService(t.config, t.db.repos, t.logger);
    const rescored = await again.service.aggregate(
      { videoId },
      { jobId: 'test', attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
    );
    await again.close();
    expect(rescored.runId).not.toBe(run.id);
    expect((await t.db.repos.scoring.runsOf(videoId)).map((r) => r.id)).not.toContain(run.id);
    expect(existsSync(join(t.config.storage.root, event!.thumbnailPath!))).toBe(false);
    expect(existsSync(dirname(clip))).toBe(false);
  });

  it('a 3-second video becomes one padded clip with its valid-frame count', async () => {
    const path = join(t.config.storage.root, 'short.mp4');
    await generateVideo(path, { durationS: 3, source: 'color=c=gray' });
    const { videoId } = await t.producer.submit.submit({ path });
    await finished(t, videoId, 60_000);
    const run = await t.db.repos.scoring.latestRun(videoId);
    const clips = await t.db.repos.scoring.clipsOf(run!.id);
    expect(clips).toHaveLength(1);
    expect(clips[0]).toMatchObject({ validFrames: 6, label: expect.any(String) });
    expect(clips[0]!.anomalyScore).toBeLessThan(0.5);
  });

  it('a 0.12-second video (3 frames, less than one sampling interval) is scored as one padded clip of one frame', async () => {
    const path = join(t.config.storage.root, 'blip.mp4');
    await generateVideo(path, { durationS: 0.12, source: 'color=c=gray' });
    const { videoId } = await t.producer.submit.submit({ path });
    const video = await finished(t, videoId);
    expect(video?.error).toBeNull();
    const run = await t.db.repos.scoring.latestRun(videoId);
    expect((await t.db.repos.scoring.clipsOf(run!.id)).map((c) => c.validFrames)).toEqual([1]);
  });

  it('a recording cut from a longer stream (timestamps from 10 s, as NVRs write) is stamped from 0', async () => {
    const path = join(t.config.storage.root, 'cut.mp4');
    const { ffmpeg } = resolveFfmpegBinaries();
    await promisify(execFile)(ffmpeg, [
      ...['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=d=3:r=25', '-f', 'lavfi', '-i', 'sine=d=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-output_ts_offset', '10', path],
    ]);
    const { videoId } = await t.producer.submit.submit({ path });
    await finished(t, videoId);
    const frames = await t.db.repos.frameEmbeddings.listFrames(videoId, t.config.models.model);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

  it('a recording displayed rotated (phone footage) is stored with its display width and height', async () => {
    const path = join(t.config.storage.root, 'phone.mp4');
    await generateVideo(path, { durationS: 2, width: 180, height: 320, rotation: 90 });
    const { videoId } = await t.producer.submit.submit({ path });
    const video = await finished(t, videoId);
    expect({ width: video?.width, height: video?.height }).toEqual({ width: 180, height: 320 });
  });

  it("a video whose stage failed without recording why gets the stage's own reason from the failed flow", async () => {
    const source = join(t.config.storage.root, 'stranded.mp4');
    // A flow whose ingest payload is malformed: it fails before any handler could mark the video.
    const stranded = await t.db.repos.videos.insertOrGet({
      sourceUri: source,
      sha256: 'd'.repeat(64),
      bytes: 1,
      model: t.config.models.model,
      pipelineConfig: pipelineConfigOf(t.config),
      configHash: 'stranded',
      status: 'ingesting',
    });
    const id = stranded.video.id;
    await t.producer.queues.flows.add({
      name: 'aggregate',
      queueName: 'aggregate',
      data: { videoId: id },
      opts: { jobId: jobIds.aggregate(id) },
      children: [
        {
          name: 'ingest',
          queueName: 'ingest',
          data: { videoId: id, urgent: 'yes' },
          opts: { jobId: jobIds.ingest(id), failParentOnFailure: true },
        },
      ],
    });
    const failed = await waitFor(
      'failed',
      () => t.db.repos.videos.get(id),
      (v) => v?.status === 'failed',
    );
    expect(failed?.error).toBe(
      'ingest failed: invalid ingest job payload: urgent: Invalid input: expected boolean, received string',
    );
  });
});
