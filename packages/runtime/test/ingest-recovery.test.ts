import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { videoProgress } from '@vad/operations';
import { jobIds, type RunningWorker } from '@vad/queue';
import { SegmentStore, type SegmentWriteFunction } from '@vad/storage';
import { generateVideo, waitFor } from '@vad/testing';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIngestWorker } from '../src/ingest-role.js';
import { useRuntimeEnvironment } from './support.js';

// 10 s at 2 fps = 20 frames = 3 segments of 8; no embed worker runs, and none needs to.
const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '8', VAD_MAX_PENDING_SEGMENTS: '8', VAD_JOB_ATTEMPTS: '3' });

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split('\n')) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

let video: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  video = join(t.config.storage.root, 'yard.mp4');
  await generateVideo(video, { durationS: 10, width: 320, height: 240, source: 'testsrc' });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

/** Every file under the storage root's segments folder, as `<video>/<name>`. */
async function segmentFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of await readdir(join(root, 'segments')).catch(() => [])) {
    for (const name of await readdir(join(root, 'segments', dir))) found.push(`${dir}/${name}`);
  }
  return found.sort();
}

describe('a full disk during ingest', () => {
  it('waits for space without spending an attempt or failing the video, says so once, and then completes', async () => {
    let filesStarted = 0;
    let storedInFile = 0;
    let full = false;
    let refusals = 0;
    // A file system that stores at most 4 KiB per write (short writes) and, once the second
    // segment is under way, fills up 1000 bytes into each file until the test frees space.
    const write: SegmentWriteFunction = async (handle, buffer, offset, length, position) => {
      if (position === 0) {
        filesStarted += 1;
        storedInFile = 0;
        if (filesStarted === 2) full = true;
      }
      if (full && storedInFile >= 1000) {
        refusals += 1;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      const n = Math.min(length, 4096, full ? 1000 - storedInFile : length);
      storedInFile += n;
      return (await handle.write(buffer, offset, n, position)).bytesWritten;
    };
    const segments = new SegmentStore(t.config.storage.root, { write });
    const { lines, logger } = recordingLogger();
    const { videoId } = await t.producer.submit.submit({ path: video, camera: 'full-disk' });
    worker = startIngestWorker(t.config, logger, { segments, storageFullRetryMs: { initial: 20, max: 50 } });
    const queues = t.producer.queues;

    const waiting = await waitFor(
      'the ingest to wait for space',
      async () => (await queues.ingest.getJob(jobIds.ingest(videoId)))?.progress as Record<string, unknown>,
      (progress) => typeof progress?.waiting === 'string',
    );
    expect(waiting.waiting).toMatch(/^storage full: \d+(\.\d)? [KMGTP]?i?B free on the storage root$/);
    // What vad status and GET /v1/videos/:id show.
    const progress = await videoProgress(queues, (await t.db.repos.videos.get(videoId))!);
    expect(progress.ingest.waiting).toMatch(/^storage full: /);
    // Still waiting a while later, having tried again and again: one line said so, no attempt spent.
    await waitFor(
      'several refused writes',
      async () => refusals,
      (n) => n >= 5,
    );
    const job = await queues.ingest.getJob(jobIds.ingest(videoId));
    expect(await job?.getState()).toBe('active');
    expect(job?.attemptsMade).toBe(0);
    expect(await t.db.repos.videos.get(videoId)).toMatchObject({ status: 'ingesting', error: null });
    // Nothing partial is in place: the first segment, whole; no temporary file once a refused write is cleaned
    // up (the retries go on every 20-50 ms, so one may be under way as the folder is read).
    expect(
      await waitFor(
        'the refused write cleaned up',
        () => segmentFiles(t.config.storage.root),
        (files) => files.every((file) => !file.endsWith('.tmp')),
        5_000,
        5,
      ),
    ).toEqual([`${videoId}/000000.seg`]);
    expect(lines.filter((l) => /storage full/.test(l.msg))).toHaveLength(1);
    expect(lines.find((l) => /storage full/.test(l.msg))).toMatchObject({ level: 40, videoId, code: 'ENOSPC' });

    full = false; // space is freed
    await waitFor(
      'ingest completed',
      () => queues.ingest.getJobState(jobIds.ingest(videoId)),
      (state) => state === 'completed' || state === 'failed',
    );
    const done = await queues.ingest.getJob(jobIds.ingest(videoId));
    expect(done?.returnvalue).toMatchObject({ frames: 20, segments: 3, segmentsSkipped: 0 });
    expect({ attemptsMade: done?.attemptsMade, stacktrace: done?.stacktrace }).toEqual({
      attemptsMade: 1,
      stacktrace: [],
    });
    expect(done?.progress).toEqual({ percent: 100, framesDecoded: 20, segmentsWritten: 3 });
    expect(await t.db.repos.videos.get(videoId)).toMatchObject({ status: 'embedding', error: null });
    expect(lines.filter((l) => /storage full/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /storage has space again/.test(l.msg))).toHaveLength(1);
    // Every segment is whole (reading checks the size) and holds its frames.
    const reader = new SegmentStore(t.config.storage.root);
    for (const [n, count] of [
      [0, 8],
      [1, 8],
      [2, 4],
    ] as const) {
      expect((await reader.read(videoId, n)).header.frames.map((f) => f.index)).toEqual(
        Array.from({ length: count }, (_, i) => n * 8 + i),
      );
    }
    expect(await segmentFiles(t.config.storage.root)).toEqual(
      ['000000.seg', '000001.seg', '000002.seg'].map((name) => `${videoId}/${name}`),
    );
    await reader.deleteVideo(videoId);
  });
});

describe('a retried ingest', () => {
  it('leaves a video another stage failed as it is, with that stage’s reason, and stops', async () => {
    const path = join(t.config.storage.root, 'failed.mp4');
    await generateVideo(path, { durationS: 4, width: 320, height: 240, source: 'color=c=gray' });
    const { videoId } = await t.producer.submit.submit({ path });
    // An embed job failed for good while ingest waited for its retry: the flow has failed.
    const reason = 'embedding segment 3 failed: segment 3 is truncated';
    await t.db.repos.videos.markFailed(videoId, reason);
    worker = startIngestWorker(t.config, t.logger);
    await waitFor(
      'ingest to stop',
      () => t.producer.queues.ingest.getJobState(jobIds.ingest(videoId)),
      (state) => state === 'failed' || state === 'completed',
    );
    const job = await t.producer.queues.ingest.getJob(jobIds.ingest(videoId));
    expect(job?.failedReason).toBe(`video ${videoId} has failed already: ${reason}`);
    expect(job?.attemptsMade).toBe(1);
    expect(await t.db.repos.videos.get(videoId)).toMatchObject({ status: 'failed', error: reason });
    expect(await segmentFiles(t.config.storage.root)).toEqual([]);
  });
});

describe('ingest worker start', () => {
  it('removes temporary segment files of killed ingests, and only those old enough not to be written now', async () => {
    // Two lock durations (2 × 60 s here) without a change mark a file whose writer is gone.
    const root = t.config.storage.root;
    const a = '00000000-0000-4000-8000-00000000000a';
    const b = '00000000-0000-4000-8000-00000000000b';
    const now = Date.now();
    const file = async (dir: string, name: string, ageMs: number) => {
      await mkdir(join(root, 'segments', dir), { recursive: true });
      const path = join(root, 'segments', dir, name);
      await writeFile(path, 'half a segment');
      await utimes(path, new Date(now - ageMs), new Date(now - ageMs));
    };
    await file(a, '000004.seg.0badf00d.tmp', 30 * 60_000);
    await file(b, '000000.seg.00c0ffee.tmp', 3 * 60_000);
    await file(b, '000001.seg.1ea51ea5.tmp', 10_000); // another machine's worker is writing it
    await file(b, '000000.seg', 60 * 60_000); // complete, waiting for its embed job
    const { lines, logger } = recordingLogger();
    worker = startIngestWorker(t.config, logger);
    await waitFor(
      'the sweep',
      () => segmentFiles(root),
      (files) => files.length === 2,
    );
    expect(await segmentFiles(root)).toEqual([`${b}/000000.seg`, `${b}/000001.seg.1ea51ea5.tmp`]);
    await waitFor(
      'its log line',
      async () => lines.filter((l) => /removed temporary segment files/.test(l.msg)),
      (found) => found.length === 1,
    );
    expect(lines.find((l) => /removed temporary segment files/.test(l.msg))).toMatchObject({
      removed: 2,
      staleAfterMs: 120_000,
    });
  });
});
