import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Config, hashPipelineConfig, type Logger } from '@vad/config';
import { SubmitError, type SubmitService } from '@vad/operations';
import {
  addVideoFlow,
  createWorker,
  jobIds,
  type QueueConnection,
  type Queues,
  queueConnectionOf,
  type RunningWorker,
  removeVideoFlow,
} from '@vad/queue';
import { IngestService, type JobContext } from '@vad/stages';
import { type Segment, SegmentStore } from '@vad/storage';
import {
  createTestEnvironment,
  generateAudioOnly,
  generateVideo,
  type TestDatabase,
  type TestEnvironment,
  truncateCopy,
  waitFor,
  writeTextAsVideo,
} from '@vad/testing';
import { decodeFrames, MotionGate, resolveFfmpegBinaries } from '@vad/video';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProducerContext, pipelineConfigOf, startIngestWorker } from '../src/index.js';

const fixtures = mkdtempSync(join(tmpdir(), 'vad-ingest-fixtures-'));
const files = {
  good: join(fixtures, 'good.mp4'),
  other: join(fixtures, 'other.mp4'),
  long: join(fixtures, 'long.mp4'),
  empty: join(fixtures, 'empty.mp4'),
  text: join(fixtures, 'text.mp4'),
  truncated: join(fixtures, 'truncated.mp4'),
  audio: join(fixtures, 'audio.m4a'),
  folder: join(fixtures, 'folder.mp4'),
};

let env: TestEnvironment;
let db: TestDatabase;
let config: Config;
let connection: QueueConnection;
let queues: Queues;
let submit: SubmitService;
let segments: SegmentStore;
let logger: Logger;

/** Stands in for the embed stage: checks each segment (and hands it to `onSegment`), deletes it and completes the job. */
function startSegmentConsumer(
  delayMs = 0,
  onSegment?: (segmentIndex: number, segment: Segment) => void,
): Pick<Worker, 'close'> {
  const worker = createWorker(
    'embed',
    async (job, _token, _signal) => {
      const segment = await segments.read(job.data.videoId, job.data.segmentIndex);
      expect(segment.header.frames).toHaveLength(job.data.frameCount);
      onSegment?.(job.data.segmentIndex, segment);
      await new Promise((r) => setTimeout(r, delayMs));
      await segments.delete(job.data.videoId, job.data.segmentIndex);
      return segment.header.frames.length;
    },
    config,
    connection,
    { concurrency: 2 },
  );
  void worker.run();
  return worker;
}

beforeAll(async () => {
  env = await createTestEnvironment({
    env: { VAD_SEGMENT_FRAMES: '8', VAD_MAX_PENDING_SEGMENTS: '2', VAD_JOB_ATTEMPTS: '3' },
  });
  ({ db, config, logger } = env);
  const producer = env.track(new ProducerContext(config, logger, { poolSize: 2, applicationName: 'vad-test' }));
  ({ queues, submit } = producer);
  connection = queueConnectionOf(config, 'worker');
  segments = new SegmentStore(config.storage.root);
  await Promise.all([
    generateVideo(files.good, { durationS: 10, width: 320, height: 240 }),
    generateVideo(files.other, { durationS: 4, width: 320, height: 180, source: 'color=c=gray' }),
    generateVideo(files.long, { durationS: 30, width: 320, height: 240 }),
    generateAudioOnly(files.audio, 3),
    writeTextAsVideo(files.text),
    rm(files.empty, { force: true }).then(() => import('node:fs/promises').then((fs) => fs.writeFile(files.empty, ''))),
    mkdir(files.folder, { recursive: true }),
  ]);
  await truncateCopy(files.good, files.truncated, 0.6);
});

afterAll(async () => {
  await connection.close();
  await env.destroy();
  await rm(fixtures, { recursive: true, force: true });
});

describe('submit', () => {
  it.each([
    ['empty', /file is empty \(0 bytes\)/],
    ['text', /not a readable video file: .*Invalid data found/],
    ['truncated', /not a readable video file: moov atom not found/],
    ['audio', /contains no video stream \(only audio\)/],
    ['folder', /is a directory, not a video file/],
  ] as const)('rejects the %s file before queueing, with the reason', async (name, reason) => {
    const attempt = submit.submit({ path: files[name] });
    await expect(attempt).rejects.toBeInstanceOf(SubmitError);
    await expect(attempt).rejects.toThrow(reason);
  });

  it('rejects a missing path', async () => {
    await expect(submit.submit({ path: join(fixtures, 'nope.mp4') })).rejects.toThrow(/nope\.mp4: no such file/);
  });

  it('queued nothing for rejected files', async () => {
    expect(await db.repos.videos.listByStatus(['queued', 'ingesting', 'failed'])).toEqual([]);
    expect(await queues.ingest.count()).toBe(0);
  });

  it('returns the existing video for the same content and config', async () => {
    const first = await submit.submit({ path: files.other, camera: 'gate' });
    const second = await submit.submit({ path: files.other, camera: 'gate' });
    expect(second.videoId).toBe(first.videoId);
    expect([first.created, second.created]).toEqual([true, false]);
    const video = await db.repos.videos.get(first.videoId);
    expect(video?.configHash).toBe(hashPipelineConfig(pipelineConfigOf(config)));
    expect(await queues.aggregate.getJobCounts('waiting-children', 'waiting')).toMatchObject({ 'waiting-children': 1 });
  });
});

describe('ingest worker', () => {
  let worker: RunningWorker;
  let consumer: Pick<Worker, 'close'> | undefined;

  beforeAll(() => {
    worker = startIngestWorker(config, logger);
  });
  afterAll(async () => {
    await consumer?.close();
    await worker.close();
  });

  it('writes segments and embed jobs while decoding, and waits while too many are unembedded', async () => {
    const { videoId } = await submit.submit({ path: files.long, camera: 'yard' });
    // 30 s at 2 fps = 60 frames = 8 segments of 8 frames; no consumer yet, so decoding must stall at 2.
    await waitFor(
      'two segments',
      () => segments.countPending(videoId),
      (n) => n === 2,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await segments.countPending(videoId)).toBe(2);
    expect(await queues.ingest.getJobState(jobIds.ingest(videoId))).toBe('active');
    // Embed jobs carry the video's priority (fair share per camera): they wait as `prioritized`.
    const waiting = await queues.embed.getJobs(['waiting', 'prioritized']);
    expect(waiting.filter((j) => j.data.videoId === videoId).map((j) => j.id)).toEqual(
      expect.arrayContaining([jobIds.embed(videoId, 0), jobIds.embed(videoId, 1)]),
    );
    expect(waiting.filter((j) => j.data.videoId === videoId)).toHaveLength(2);
    expect((await db.repos.videos.get(videoId))?.status).toBe('ingesting');

    consumer = startSegmentConsumer(50);
    await waitFor(
      'aggregate to be runnable',
      () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
      (s) => s === 'waiting' || s === 'prioritized',
    );
    const video = await db.repos.videos.get(videoId);
    expect(video).toMatchObject({
      status: 'embedding',
      framesDecoded: 60,
      segmentsWritten: 8,
      width: 320,
      height: 240,
      codec: 'h264',
    });
    expect(video?.durationMs).toBeGreaterThan(29_000);
    expect(await segments.countPending(videoId)).toBe(0);
    const ingest = await queues.ingest.getJob(jobIds.ingest(videoId));
    expect(ingest?.returnvalue).toMatchObject({ frames: 60, segments: 8, segmentsSkipped: 0, framesThisAttempt: 60 });
    expect(ingest?.returnvalue).not.toHaveProperty('resumedAt');
    expect(ingest?.progress).toMatchObject({ percent: 100 });
  });

  it('fails a corrupt file at ingest with a readable reason, once, and goes on with other videos', async () => {
    // A file that changed after submission (or was registered by URI): the worker must cope on its own.
    const bad = await db.repos.videos.insertOrGet({
      sourceUri: files.text,
      sha256: 'f'.repeat(64),
      bytes: 1,
      model: config.pipeline.model,
      pipelineConfig: pipelineConfigOf(config),
      configHash: hashPipelineConfig(pipelineConfigOf(config)),
    });
    const audio = await db.repos.videos.insertOrGet({
      sourceUri: files.audio,
      sha256: 'a'.repeat(64),
      bytes: 1,
      model: config.pipeline.model,
      pipelineConfig: pipelineConfigOf(config),
      configHash: hashPipelineConfig(pipelineConfigOf(config)),
    });
    await addVideoFlow(queues, config, bad.video.id);
    await addVideoFlow(queues, config, audio.video.id);
    const good = await submit.submit({ path: files.good });

    const failed = await waitFor(
      'bad video failed',
      () => db.repos.videos.get(bad.video.id),
      (v) => v?.status === 'failed',
    );
    expect(failed?.error).toMatch(/not a readable video file: .*Invalid data found/);
    const audioFailed = await waitFor(
      'audio failed',
      () => db.repos.videos.get(audio.video.id),
      (v) => v?.status === 'failed',
    );
    expect(audioFailed?.error).toBe('contains no video stream (only audio)');
    const job = await queues.ingest.getJob(jobIds.ingest(bad.video.id));
    expect(job?.attemptsMade).toBe(1);
    expect(await queues.ingest.getJobState(jobIds.ingest(bad.video.id))).toBe('failed');

    await waitFor(
      'good video ingested',
      () => db.repos.videos.get(good.videoId),
      (v) => v?.status === 'embedding',
    );
    expect((await db.repos.videos.get(good.videoId))?.framesDecoded).toBe(20);
  });

  it('fails when the source file disappeared, without retrying', async () => {
    const gone = join(fixtures, 'gone.mp4');
    await generateVideo(gone, { durationS: 2 });
    const { videoId } = await (async () => {
      await worker.close();
      const result = await submit.submit({ path: gone });
      await rm(gone);
      worker = startIngestWorker(config, logger);
      return result;
    })();
    const video = await waitFor(
      'failed',
      () => db.repos.videos.get(videoId),
      (v) => v?.status === 'failed',
    );
    expect(video?.error).toMatch(/no such file|source file no longer exists/i);
  });
});

describe('shutdown and restart', () => {
  it('hands an interrupted ingest back to the queue, and the restart resumes after what was queued', async () => {
    // A keyframe every 2 s, as cameras write: the restart's seek lands close before where it resumes.
    const path = join(fixtures, 'restart.mp4');
    await promisify(execFile)(resolveFfmpegBinaries().ffmpeg, [
      ...['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=20'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', path],
    ]);
    const { videoId } = await submit.submit({ path });
    const first = startIngestWorker(config, logger);
    // Stalls at 2 pending segments (no consumer): interrupt it there.
    await waitFor(
      'two segments',
      () => segments.countPending(videoId),
      (n) => n === 2,
    );
    await first.close();
    expect(['waiting', 'prioritized']).toContain(await queues.ingest.getJobState(jobIds.ingest(videoId)));
    const video = await db.repos.videos.get(videoId);
    expect(video).toMatchObject({ status: 'ingesting', framesDecoded: 16, segmentsWritten: 2 });

    const consumer = startSegmentConsumer();
    const second = startIngestWorker(config, logger);
    try {
      // The job's state, not the row: BullMQ stores the result only after the handler has returned.
      await waitFor(
        'ingest job completed',
        () => queues.ingest.getJobState(jobIds.ingest(videoId)),
        (s) => s === 'completed',
      );
      const after = await db.repos.videos.get(videoId);
      expect(after).toMatchObject({ status: 'embedding', framesDecoded: 40, segmentsWritten: 5 });
      // The restart is the same ingest going on: its start is still the first attempt's.
      expect(after?.ingestStartedAt).toEqual(video?.ingestStartedAt);
      const job = await queues.ingest.getJob(jobIds.ingest(videoId));
      // It decoded from segment 2 (frame 16, 8 s) on only: 24 of the 40 frames, ffmpeg seeking to 6 s.
      expect(job?.returnvalue).toEqual({
        videoId,
        frames: 40,
        segments: 5,
        segmentsSkipped: 2,
        framesThisAttempt: 24,
        framesEncodedThisAttempt: 24,
        resumedAt: { segment: 2, frame: 16, seekS: 6 },
      });
      // One attempt counted (BullMQ counts the completed one): the released run spent none, and nothing failed.
      expect({ attemptsMade: job?.attemptsMade, stacktrace: job?.stacktrace }).toEqual({
        attemptsMade: 1,
        stacktrace: [],
      });
      await waitFor(
        'all embedded',
        () => queues.aggregate.getJobState(jobIds.aggregate(videoId)),
        (s) => s === 'waiting' || s === 'prioritized',
      );
      expect(await queues.embed.getJobCounts('completed')).toMatchObject({ completed: expect.any(Number) });
      expect(await readdir(segments.videoDir(videoId))).toEqual([]);
    } finally {
      await second.close();
      await consumer.close();
    }
  });
  it('under motion sampling, a resumed ingest makes the very encode-or-reuse decisions of an uninterrupted one', async () => {
    // A still grey scene; a red square shows from 6 to 7 s and from 13 to 15 s. A keyframe every 2 s.
    const path = join(fixtures, 'motion-restart.mp4');
    await generateVideo(path, {
      durationS: 20,
      source: 'color=c=gray',
      filters: "drawbox=x=100:y=80:w=60:h=60:color=red:t=fill:enable='between(t,6,7)+between(t,13,15)'",
    });
    const motionConfig: Config = {
      ...config,
      pipeline: { ...config.pipeline, sampling: 'motion', motion: { threshold: 12, minArea: 0.002 } },
    };
    const producer = env.track(new ProducerContext(motionConfig, logger, { poolSize: 1, applicationName: 'vad-test' }));
    const { videoId } = await producer.submit.submit({ path });
    const pipeline = pipelineConfigOf(motionConfig);

    // What an uninterrupted ingest decides: the gate over the decoded frames, reset at every segment's start.
    const expected: (number | undefined)[] = [];
    const gate = new MotionGate(pipeline.inputSize, { threshold: 12, minArea: 0.002 });
    let lastKept = -1;
    for await (const frame of decodeFrames(path, resolveFfmpegBinaries(), { sampleFps: 2, size: pipeline.inputSize })) {
      if (frame.index % 8 === 0) gate.reset();
      if (gate.check(frame.rgb).keep) {
        lastKept = frame.index;
        expected.push(undefined);
      } else expected.push(lastKept);
    }
    expect(expected).toHaveLength(40);
    // The scene changes four times, and each of the 5 segments starts with an encoded frame: few are encoded.
    expect(expected.filter((e) => e === undefined).length).toBeLessThanOrEqual(5 + 4);

    const first = startIngestWorker(config, logger);
    await waitFor(
      'two segments',
      () => segments.countPending(videoId),
      (n) => n === 2,
    );
    await first.close();
    // Every segment's header, as the embed stage reads it: which frames reuse which.
    const seen = new Map<number, (number | undefined)[]>();
    const consumer = startSegmentConsumer(0, (index, segment) =>
      seen.set(
        index,
        segment.header.frames.map((f) => f.sameAs),
      ),
    );
    const second = startIngestWorker(config, logger);
    try {
      await waitFor(
        'ingest job completed',
        () => queues.ingest.getJobState(jobIds.ingest(videoId)),
        (s) => s === 'completed',
      );
      await waitFor(
        'every segment read',
        async () => seen.size,
        (n) => n === 5,
      );
      const job = await queues.ingest.getJob(jobIds.ingest(videoId));
      // It resumed at segment 2 (frame 16), and encoded only what changed from there on.
      expect(job?.returnvalue).toMatchObject({
        frames: 40,
        segments: 5,
        framesThisAttempt: 24,
        framesEncodedThisAttempt: expected.slice(16).filter((e) => e === undefined).length,
        resumedAt: { segment: 2, frame: 16 },
      });
      const written = [0, 1, 2, 3, 4].flatMap((segment) => seen.get(segment) ?? []);
      expect(written).toEqual(expected);
    } finally {
      await second.close();
      await consumer.close();
    }
  });

  it('an attempt killed after it queued the last, shorter segment: the retry decodes nothing and keeps the frame count', async () => {
    // 10 s at 2 fps: 20 frames, segments of 8, 8 and 4.
    const path = join(fixtures, 'short-tail.mp4');
    await generateVideo(path, { durationS: 10, source: 'color=c=navy', filters: 'noise=alls=8:allf=t' });
    const { videoId } = await submit.submit({ path });
    const service = new IngestService({
      config,
      repos: db.repos,
      queues,
      segments,
      binaries: resolveFfmpegBinaries(),
      logger,
    });
    const context = (attemptsMade: number): JobContext => ({
      jobId: jobIds.ingest(videoId),
      attemptsMade,
      maxAttempts: 3,
      updateProgress: async () => {},
    });
    const consumer = startSegmentConsumer();
    try {
      const first = await service.ingest({ videoId }, context(0));
      expect(first).toMatchObject({ frames: 20, segments: 3, framesThisAttempt: 20 });
      // As a kill -9 between queueing the last segment and recording the video as ingested leaves it.
      await db.pool.query("update videos set status = 'ingesting' where id = $1", [videoId]);
      const retry = await service.ingest({ videoId }, context(1));
      expect(retry).toEqual({
        videoId,
        frames: 20,
        segments: 3,
        segmentsSkipped: 3,
        framesThisAttempt: 0,
        framesEncodedThisAttempt: 0,
      });
      expect(await db.repos.videos.get(videoId)).toMatchObject({
        status: 'embedding',
        framesDecoded: 20,
        segmentsWritten: 3,
      });
      expect(await queues.embed.getJob(jobIds.embed(videoId, 3))).toBeUndefined();
    } finally {
      await consumer.close();
      await removeVideoFlow(queues, videoId);
    }
  });
});
