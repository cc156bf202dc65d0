import { appendFile, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createQueues, createRedisConnection, type Queues } from '@vad/queue';
import { sha256File } from '@vad/storage';
import { generateVideo, useTestEnvironment, waitFor, writeTextAsVideo } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { beforeAll, describe, expect, it } from 'vitest';
import { FolderWatcher, SubmitService, type WatchEvent } from '../src/index.js';

const env = useTestEnvironment({ tinyModel: false });
let submit: SubmitService;
let queues: Queues;

beforeAll(() => {
  const connection = createRedisConnection(env.config.redis.url, 'worker');
  env.track({ close: () => connection.disconnect() });
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

describe('vad watch', () => {
  it('submits a file once it has finished being written, with camera and time from its path; a restart submits nothing again', async () => {
    const source = join(env.config.storage.root, 'source.mp4');
    await generateVideo(source, { durationS: 3, width: 160, height: 120 });
    const inbox = join(env.config.storage.root, 'inbox');
    await mkdir(join(inbox, 'gate'), { recursive: true });
    const target = join(inbox, 'gate', 'gate_20261128_220000.mp4');
    const options = {
      stableMs: 800,
      polling: false,
      cameraFrom: /^(?<camera>[^/]+)\//,
      recordedAtFrom: /(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)_(?<hour>\d\d)(?<minute>\d\d)(?<second>\d\d)/,
      timeZone: 'Europe/Berlin',
      skipOlderThanMs: 90 * 86_400_000,
    };
    const events: (WatchEvent & { at: number })[] = [];
    const watcher = new FolderWatcher(inbox, options, { submit, repos: env.db.repos, logger: env.logger }, (e) =>
      events.push({ ...e, at: Date.now() }),
    );
    await watcher.start();
    try {
      // The camera writes the recording in pieces, pausing less than the stability time.
      const bytes = await readFile(source);
      const pieces = 5;
      let finishedWriting = 0;
      for (let i = 0; i < pieces; i++) {
        const piece = bytes.subarray(
          Math.floor((i * bytes.length) / pieces),
          Math.floor(((i + 1) * bytes.length) / pieces),
        );
        if (i === 0) await writeFile(target, piece);
        else await appendFile(target, piece);
        finishedWriting = Date.now();
        if (i < pieces - 1) await new Promise((r) => setTimeout(r, 300));
      }
      await writeTextAsVideo(join(inbox, 'gate', 'notes.mp4'));
      // A recording older than results retention (its video would already be deleted): left alone.
      const ancient = join(inbox, 'gate', 'gate_20250101_220000.mp4');
      await writeFile(ancient, bytes);
      await utimes(ancient, new Date('2025-01-02'), new Date('2025-01-02'));
      await writeFile(join(inbox, 'readme.txt'), 'not a recording');
      await waitFor(
        'the files dealt with',
        async () => events,
        (seen) =>
          seen.some((e) => e.path === target) &&
          seen.some((e) => e.path.endsWith('notes.mp4')) &&
          seen.some((e) => e.path === ancient),
        15_000,
        50,
      );
      await watcher.idle();

      const submitted = events.filter((e) => e.type === 'submitted');
      expect(submitted).toHaveLength(1);
      expect(submitted[0]?.path).toBe(target);
      expect(submitted[0]?.at).toBeGreaterThanOrEqual(finishedWriting + options.stableMs - 100);
      const rejected = events.filter((e) => e.type === 'rejected');
      expect(rejected.map((e) => e.path)).toEqual([join(inbox, 'gate', 'notes.mp4')]);
      expect(events.some((e) => e.path.endsWith('readme.txt'))).toBe(false);
      expect(events.filter((e) => e.path === ancient).map((e) => e.type)).not.toContain('submitted');
      expect(events.find((e) => e.path === ancient)).toMatchObject({ type: 'skipped' });

      const videoId = submitted[0]?.type === 'submitted' ? submitted[0].result.videoId : '';
      const video = (await env.db.repos.videos.getWithCamera(videoId))!;
      expect(video.camera).toBe('gate');
      expect(video.video.recordedAt).toEqual(new Date('2026-11-28T21:00:00Z'));
      expect(video.video.sha256).toBe(await sha256File(source));
    } finally {
      await watcher.close();
    }

    // Restarted: every file is seen again, and none is submitted again.
    const again: WatchEvent[] = [];
    const restarted = new FolderWatcher(inbox, options, { submit, repos: env.db.repos, logger: env.logger }, (e) =>
      again.push(e),
    );
    await restarted.start();
    try {
      await waitFor(
        'seen again',
        async () => again,
        (seen) => seen.some((e) => e.path === target) && seen.some((e) => e.path.endsWith('notes.mp4')),
        15_000,
        50,
      );
      await restarted.idle();
      expect(again.filter((e) => e.type === 'submitted')).toEqual([]);
      expect(again.find((e) => e.path === target)?.type).toBe('skipped');
      expect(await queues.ingest.getJobCountByTypes('waiting', 'prioritized', 'active', 'completed')).toBe(1);
    } finally {
      await restarted.close();
    }
  });
});
