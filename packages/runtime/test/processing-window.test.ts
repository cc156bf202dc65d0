import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@vad/config';
import { QueueMonitor, videoProgress } from '@vad/operations';
import { jobIds, type RunningWorker } from '@vad/queue';
import { processingWindow } from '@vad/schedule';
import { generateVideo, waitFor } from '@vad/testing';
import { DateTime } from 'luxon';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

// 30 s at 2 fps = 60 frames = 8 segments of 8 (the last one of 4).
const t = useRuntimeEnvironment({
  VAD_SEGMENT_FRAMES: '8',
  VAD_MAX_PENDING_SEGMENTS: '2',
  VAD_PROCESSING_WINDOW: '22:00-06:00',
  VAD_TIMEZONE: 'Europe/Berlin',
});

let long: string;
let short: string;
let gate: string;
let workers: RunningWorker | undefined;

beforeAll(async () => {
  long = join(t.config.storage.root, 'yard-night.mp4');
  short = join(t.config.storage.root, 'door-now.mp4');
  await generateVideo(long, { durationS: 30, width: 160, height: 120, source: 'testsrc' });
  await generateVideo(short, { durationS: 3, width: 160, height: 120, source: 'color=c=red' });
  gate = join(t.config.storage.root, 'gate.mp4');
  await generateVideo(gate, { durationS: 3, width: 160, height: 120, source: 'color=c=blue' });
});

afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

/** A clock the test moves: the Berlin wall-clock time it reads is set with `at`. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    at(hour: number, minute: number, second = 0) {
      const day = DateTime.now().setZone('Europe/Berlin').plus({ days: 1 });
      offset = day.set({ hour, minute, second, millisecond: 0 }).toMillis() - Date.now();
    },
  };
}

const segmentFolder = (videoId: string) => join(t.config.storage.root, 'segments', videoId);

describe('the processing window closing in the middle of a video', () => {
  it('hands the ingest back at a segment boundary; urgent work runs at once; the video completes in the next window with one row per frame', async () => {
    const clock = movableClock();
    clock.at(5, 58); // two minutes before the window closes
    // No embed worker yet: decoding stalls at 2 pending segments, in the middle of the video.
    workers = await startRoles(['ingest', 'aggregate'], t.config, t.logger, { clock: clock.now });
    const { videoId } = await t.producer.submit.submit({ path: long, camera: 'yard' });
    await waitFor(
      'ingest stalled on pending segments',
      () => readdir(segmentFolder(videoId)).catch(() => []),
      (files) => files.filter((name) => name.endsWith('.seg')).length === 2,
    );

    clock.at(6, 0, 30); // the window has closed
    const ingestJob = jobIds.ingest(videoId);
    await waitFor(
      'ingest handed back',
      () => t.producer.queues.ingest.getJobState(ingestJob),
      (state) => state === 'delayed',
      10_000,
    );
    const handedBack = await t.producer.queues.ingest.getJob(ingestJob);
    expect(handedBack?.attemptsMade).toBe(0);
    expect((await t.db.repos.videos.get(videoId))?.status).toBe('ingesting');
    const progress = await videoProgress(t.producer.queues, (await t.db.repos.videos.get(videoId))!);
    const opensAt = clock.now() + (22 * 60 - (6 * 60 + 0.5)) * 60_000;
    expect(progress.held?.window).toBe('22:00-06:00 Europe/Berlin');
    // Released at the next opening (16 h less 30 s of the test's clock from now).
    expect(Math.abs((progress.held?.until.getTime() ?? 0) - (opensAt - clock.now() + Date.now()))).toBeLessThan(5_000);

    // Embedding runs too now: the video's queued segments are held, and an urgent upload goes through at once.
    const embed = await startRoles(['embed'], t.config, t.logger, { clock: clock.now });
    try {
      const started = Date.now();
      const urgent = await t.producer.submit.submit({ path: short, camera: 'door', urgent: true });
      expect((await finished(t, urgent.videoId, 30_000))?.status).toBe('done');
      t.logger.info({ ms: Date.now() - started }, 'urgent video done while the window is closed');
      expect((await t.db.repos.videos.get(videoId))?.status).toBe('ingesting');
      await waitFor(
        'segments held',
        () => t.producer.queues.embed.getDelayedCount(),
        (n) => n === 2,
      );
    } finally {
      await embed.close();
    }
    await workers.close();

    // The next night: workers started in the open window release what the closed one held.
    clock.at(22, 0, 5);
    workers = await startRoles(['ingest', 'embed', 'aggregate'], t.config, t.logger, { clock: clock.now });
    const done = await finished(t, videoId, 60_000);
    if (!done) throw new Error('the video is gone');
    expect(done.status).toBe('done');
    expect(done.framesDecoded).toBe(60);
    expect(await t.db.repos.frameEmbeddings.countInRange(videoId, done.model, 0, 59)).toBe(60);
    expect(await t.db.repos.frameEmbeddings.countInRange(videoId, done.model, 0, 1_000_000)).toBe(60);
    // Nothing is left of the video's segments, not even an empty folder.
    expect(await readdir(segmentFolder(videoId)).catch(() => 'gone')).toBe('gone');
  });
});

describe('held jobs follow the window in force', () => {
  /** A window of one hour starting `fromNowH` hours from now (UTC), on minute boundaries. */
  const windowFromNow = (fromNowH: number): string => {
    const start = DateTime.utc().plus({ hours: fromNowH }).startOf('minute');
    return `${start.toFormat('HH:mm')}-${start.plus({ hours: 1 }).toFormat('HH:mm')}`;
  };
  const withWindow = (window: string | undefined): Config => ({
    ...t.config,
    schedule: { timeZone: 'UTC', window },
  });

  it('re-times held jobs when the window changes, releases them when it is removed, and says until when', async () => {
    const first = withWindow(windowFromNow(3));
    workers = await startRoles(['ingest'], first, t.logger);
    const { videoId } = await t.producer.submit.submit({ path: gate, camera: 'gate' });
    const ingestJob = jobIds.ingest(videoId);
    await waitFor(
      'held',
      () => t.producer.queues.ingest.getJobState(ingestJob),
      (s) => s === 'delayed',
    );
    const heldUntil = async () =>
      (await videoProgress(t.producer.queues, (await t.db.repos.videos.get(videoId))!)).held;
    const firstOpening = processingWindow(first)!.next(new Date()).opensAt;
    expect((await heldUntil())?.until.getTime()).toBeCloseTo(firstOpening.getTime(), -4);
    expect((await heldUntil())?.window).toBe(`${first.schedule.window} UTC`);
    await workers.close();

    // The window moves to open an hour earlier: the job follows it when the workers restart.
    const second = withWindow(windowFromNow(2));
    const secondOpening = processingWindow(second)!.next(new Date()).opensAt;
    workers = await startRoles(['ingest'], second, t.logger);
    // Re-timing moves the release time, then the hold mark: wait for both.
    await waitFor(
      're-timed',
      heldUntil,
      (held) =>
        Math.abs((held?.until.getTime() ?? 0) - secondOpening.getTime()) < 10_000 &&
        held?.window === `${second.schedule.window} UTC`,
      10_000,
    );
    const monitor = new QueueMonitor({
      queues: t.producer.queues,
      repos: t.db.repos,
      window: processingWindow(second),
    });
    const ingestHealth = await monitor.queueHealth('ingest');
    expect(ingestHealth.held.jobs).toBe(1);
    expect(Math.abs((ingestHealth.held.until?.getTime() ?? 0) - secondOpening.getTime())).toBeLessThan(10_000);
    const report = await monitor.report();
    expect(report.forecast.held).toMatchObject({ videos: 1, until: secondOpening });
    await workers.close();

    // The window is removed: held work runs at once.
    workers = await startRoles(['ingest', 'embed', 'aggregate'], withWindow(undefined), t.logger);
    expect((await finished(t, videoId, 30_000))?.status).toBe('done');
  });
});
