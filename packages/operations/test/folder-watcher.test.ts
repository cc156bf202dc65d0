import { appendFile, copyFile, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@vad/config';
import { createQueues, type Queues, queueConnectionOf } from '@vad/queue';
import { sha256File } from '@vad/storage';
import { generateVideo, useTestEnvironment, waitFor, writeTextAsVideo } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { beforeAll, describe, expect, it } from 'vitest';
import { FolderWatcher, type FolderWatcherOptions, SubmitService, type WatchEvent } from '../src/index.js';

const env = useTestEnvironment({ tinyModel: false });
let submit: SubmitService;
let queues: Queues;

beforeAll(() => {
  const connection = queueConnectionOf(env.config, 'worker');
  env.track({ close: () => connection.close() });
  queues = env.track(createQueues(env.config, connection));
  const pipeline = { ...env.config.pipeline, inputSize: 224 };
  submit = new SubmitService({
    config: env.config,
    pipeline,
    repos: env.db.repos,
    queues,
    binaries: resolveFfmpegBinaries(),
    logger: env.logger,
  });
});

interface LogLine {
  level: string;
  msg: string;
  path?: string;
  cause?: string;
  reason?: string;
  [field: string]: unknown;
}

/** The few pino methods the watcher calls, writing each line (fields and message) to `lines`. */
function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (fields: object | string, msg = '') =>
      lines.push(typeof fields === 'string' ? { level, msg: fields } : { ...fields, level, msg });
  const logger = {
    level: 'debug',
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return logger as unknown as Logger;
}

type Timed = WatchEvent & { at: number };
const ofType = <K extends WatchEvent['type']>(events: Timed[], type: K) =>
  events.filter((e): e is Extract<WatchEvent, { type: K }> & { at: number } => e.type === type);
const pathOf = (e: WatchEvent) => (e.type === 'scanned' ? undefined : e.path);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `bytes` to `target` in `pieces`, pausing `pauseMs` between them; resolves with when the last one was written. */
async function writeInPieces(target: string, bytes: Buffer, pieces: number, pauseMs: number, from = 0) {
  let finishedWriting = 0;
  for (let i = from; i < pieces; i++) {
    const piece = bytes.subarray(
      Math.floor((i * bytes.length) / pieces),
      Math.floor(((i + 1) * bytes.length) / pieces),
    );
    if (i === 0) await writeFile(target, piece);
    else await appendFile(target, piece);
    finishedWriting = Date.now();
    if (i < pieces - 1) await sleep(pauseMs);
  }
  return finishedWriting;
}

describe('vad watch', () => {
  it('submits a file once it has finished being written, with camera and time from its path, says why it skips files; a restart submits nothing again and sums up in one line', async () => {
    const source = join(env.config.storage.root, 'source.mp4');
    await generateVideo(source, { durationS: 3, width: 160, height: 120 });
    const inbox = join(env.config.storage.root, 'inbox');
    await mkdir(join(inbox, 'gate'), { recursive: true });
    const target = join(inbox, 'gate', 'gate_20261128_220000.mp4');
    const options: FolderWatcherOptions = {
      stableMs: 600,
      polling: false,
      cameraFrom: /^(?<camera>[^/]+)\//,
      recordedAtFrom: /(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)_(?<hour>\d\d)(?<minute>\d\d)(?<second>\d\d)/,
      timeZone: 'Europe/Berlin',
      skipOlderThanMs: 90 * 86_400_000,
    };
    const events: Timed[] = [];
    const lines: LogLine[] = [];
    const logger = capturingLogger(lines);
    const watcher = new FolderWatcher(inbox, options, { submit, repos: env.db.repos, logger }, (e) =>
      events.push({ ...e, at: Date.now() }),
    );
    await watcher.start();
    const notes = join(inbox, 'gate', 'notes.mp4');
    const copy = join(inbox, 'gate', 'copy of gate.mp4');
    const empty = join(inbox, 'gate', 'empty.mp4');
    const readme = join(inbox, 'readme.txt');
    const hidden = join(inbox, 'gate', '.gate_20261128_230000.mp4');
    const partial = join(inbox, 'gate', 'gate_20261128_230000.mp4.part');
    // A recording older than results retention (its video would already be deleted): left alone.
    const ancient = join(inbox, 'gate', 'gate_20250101_220000.mp4');
    try {
      // The camera writes the recording in pieces, pausing less than the stability time.
      const bytes = await readFile(source);
      const finishedWriting = await writeInPieces(target, bytes, 5, 200);
      await writeTextAsVideo(notes);
      await writeFile(ancient, bytes);
      await utimes(ancient, new Date('2025-01-02'), new Date('2025-01-02'));
      await writeFile(readme, 'not a recording');
      await writeFile(hidden, bytes.subarray(0, 1000));
      await writeFile(partial, bytes.subarray(0, 1000));
      await writeFile(empty, '');
      await waitFor(
        'the recording submitted',
        async () => events,
        (seen) => seen.some((e) => pathOf(e) === target),
      );
      // The same recording under another name: the content hash knows it.
      await copyFile(source, copy);
      const dealtWith = [target, notes, ancient, readme, hidden, partial, empty, copy];
      await waitFor(
        'the files dealt with',
        async () => events,
        (seen) => dealtWith.every((path) => seen.some((e) => pathOf(e) === path)),
        15_000,
        50,
      );
      await watcher.idle();

      const submitted = ofType(events, 'submitted');
      expect(submitted.map((e) => [e.path, e.result.created])).toEqual([
        [target, true],
        [copy, false],
      ]);
      expect(submitted[0]!.at).toBeGreaterThanOrEqual(finishedWriting + options.stableMs - 100);
      const rejected = ofType(events, 'rejected');
      expect(rejected.map((e) => e.path)).toEqual([notes]);
      const skipped = Object.fromEntries(ofType(events, 'skipped').map((e) => [e.path, [e.cause, e.reason]]));
      expect(skipped).toEqual({
        [ancient]: ['older-than-retention', 'older than the results retention period'],
        [readme]: ['not-video', 'not a video file name extension'],
        [hidden]: ['hidden', 'hidden file'],
        [partial]: ['temporary', 'temporary file (still being copied or saved)'],
        [empty]: ['empty', 'empty file (0 bytes)'],
      });
      // Each skip is one structured line at info, with its reason; a rejected file one warning.
      for (const [path, [cause, reason]] of Object.entries(skipped)) {
        expect(lines.filter((l) => l.path === path)).toEqual([
          expect.objectContaining({ level: 'info', msg: expect.stringMatching(/skipped/), cause, reason }),
        ]);
      }
      expect(lines.find((l) => l.path === copy)).toMatchObject({ level: 'info', cause: 'already-submitted' });
      expect(lines.filter((l) => l.path === notes)).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'watch: file rejected' }),
      ]);

      const video = (await env.db.repos.videos.getWithCamera(submitted[0]!.result.videoId))!;
      expect(video.camera).toBe('gate');
      expect(video.video.recordedAt).toEqual(new Date('2026-11-28T21:00:00Z'));
      expect(video.video.sha256).toBe(await sha256File(source));
    } finally {
      await watcher.close();
    }

    // Restarted: every file is seen again, none is submitted again, and those already
    // submitted are summed up in one line instead of one each.
    const again: WatchEvent[] = [];
    const restartLines: LogLine[] = [];
    const restarted = new FolderWatcher(
      inbox,
      options,
      { submit, repos: env.db.repos, logger: capturingLogger(restartLines) },
      (e) => again.push(e),
    );
    await restarted.start();
    try {
      await waitFor(
        'the initial scan dealt with',
        async () => again,
        (seen) => seen.some((e) => e.type === 'scanned'),
        15_000,
        50,
      );
      await restarted.idle();
      expect(again.filter((e) => e.type === 'submitted')).toEqual([]);
      expect(again.filter((e) => e.type === 'scanned')).toEqual([
        { type: 'scanned', path: inbox, files: 5, alreadySubmitted: 2, olderThanRetention: 1 },
      ]);
      const info = restartLines.filter((l) => l.level === 'info' || l.level === 'warn');
      expect(info.filter((l) => /already submitted/.test(l.msg))).toEqual([
        expect.objectContaining({
          msg: 'watch: 2 files already submitted, 1 older than the results retention period, skipped',
          alreadySubmitted: 2,
        }),
      ]);
      for (const path of [target, copy, ancient]) {
        expect(again.some((e) => pathOf(e) === path)).toBe(false);
        expect(info.some((l) => l.path === path)).toBe(false);
        expect(restartLines.filter((l) => l.path === path)).toEqual([
          expect.objectContaining({ level: 'debug', msg: 'watch: file skipped' }),
        ]);
      }
      // Files skipped for what they are are still named, each with its reason.
      expect(again.filter((e) => e.type === 'skipped').map((e) => pathOf(e))).toEqual(
        expect.arrayContaining([readme, hidden, partial, empty]),
      );
      expect(await queues.ingest.getJobCountByTypes('waiting', 'prioritized', 'active', 'completed')).toBe(1);
    } finally {
      await restarted.close();
    }
  });

  it('started while a recording is still being written, submits it once, after it settles', async () => {
    const source = join(env.config.storage.root, 'growing-source.mp4');
    // moov first: a half-written file already probes as a (shorter) video.
    await generateVideo(source, { durationS: 4, width: 160, height: 120, source: 'testsrc2', faststart: true });
    const bytes = await readFile(source);
    const inbox = join(env.config.storage.root, 'inbox-growing');
    await mkdir(inbox, { recursive: true });
    const target = join(inbox, 'yard_20261129_080000.mp4');
    const options: FolderWatcherOptions = { stableMs: 600, polling: false, camera: 'yard', timeZone: 'UTC' };
    const pieces = 6;
    const pauseMs = 200; // longer than a poll (125 ms), shorter than the stability time
    await writeFile(target, bytes.subarray(0, Math.floor(bytes.length / pieces)));

    const events: Timed[] = [];
    const watcher = new FolderWatcher(inbox, options, { submit, repos: env.db.repos, logger: env.logger }, (e) =>
      events.push({ ...e, at: Date.now() }),
    );
    await watcher.start();
    try {
      // The watcher has seen the file, half written; the camera goes on writing.
      expect((await stat(target)).size).toBeLessThan(bytes.length);
      const finishedWriting = await writeInPieces(target, bytes, pieces, pauseMs, 1);
      await waitFor(
        'the recording submitted',
        async () => events,
        (seen) => seen.some((e) => e.type === 'submitted') && seen.some((e) => e.type === 'scanned'),
        15_000,
        50,
      );
      await watcher.idle();

      expect(events.map((e) => e.type).sort()).toEqual(['scanned', 'submitted']);
      const [submitted] = ofType(events, 'submitted');
      expect(submitted!.at).toBeGreaterThanOrEqual(finishedWriting + options.stableMs - 100);
      expect(submitted!.result.created).toBe(true);
      // A file found still being written is a new recording, not one already submitted.
      expect(events.find((e) => e.type === 'scanned')).toMatchObject({ files: 1, alreadySubmitted: 0 });
      const video = (await env.db.repos.videos.getWithCamera(submitted!.result.videoId))!;
      expect(video.video.sha256).toBe(await sha256File(source));
      expect(video.video.bytes).toBe(bytes.length);
      expect(video.camera).toBe('yard');
      // One video of the camera: not a second one for the half-written file.
      expect((await env.db.repos.videos.listByCamera('yard', undefined)).map((v) => v.id)).toEqual([
        submitted!.result.videoId,
      ]);
    } finally {
      await watcher.close();
    }
  });
});
