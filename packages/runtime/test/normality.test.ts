import { join } from 'node:path';
import { eventReviews } from '@vad/db';
import { CalibrationError, CalibrationService, NormalMemoryError, NormalMemoryService } from '@vad/operations';
import type { ScoringOverrides } from '@vad/queue';
import { generateVideo } from '@vad/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAggregateService, startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '32' });

const HOUR = 3_600_000;
const iou = (a: [number, number], b: [number, number]) => {
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  return inter / (Math.max(a[1], b[1]) - Math.min(a[0], b[0]));
};

/**
 * The tiny test model embeds a frame by its mean colour: a camera's scene is
 * its colour pattern. The yard: grey with a dark block on its left half.
 * The furnace: orange-red all over, which the prompts call fire/explosion.
 * An unusual night has another colour over the whole frame from 20 s to 32 s.
 */
const YARD = { source: 'color=c=gray', filters: 'drawbox=x=0:y=0:w=iw/2:h=ih:color=darkslategray:t=fill' };
const FURNACE = { source: 'color=c=orangered', filters: 'drawbox=x=0:y=0:w=iw:h=ih/4:color=red:t=fill' };
const SEGMENT: [number, number] = [20_000, 32_000];
const unusual = (scene: { filters: string }, colour: string) => ({
  ...scene,
  filters: `${scene.filters},drawbox=x=0:y=0:w=iw:h=ih:color=${colour}:t=fill:enable='between(t,20,32)'`,
});

const videos: Record<string, string> = {};
let service: ReturnType<typeof createAggregateService>['service'];
const memory = () => new NormalMemoryService({ repos: t.db.repos, logger: t.logger });
const calibration = () => new CalibrationService({ config: t.config, repos: t.db.repos, logger: t.logger });

async function submit(name: string, camera: string, hoursAgo: number, options: Parameters<typeof generateVideo>[1]) {
  const path = join(t.config.storage.root, `${name}.mp4`);
  await generateVideo(path, options);
  const recordedAt = new Date(Date.now() - hoursAgo * HOUR);
  const { videoId } = await t.producer.submit.submit({ path, camera, recordedAt });
  videos[name] = videoId;
}

/** Scores a video again (as a rescore job would) and returns its new run's events and clips. */
async function score(name: string, scoring: ScoringOverrides = {}) {
  const videoId = videos[name] as string;
  const { runId } = await service.aggregate(
    { videoId, scoring },
    { jobId: 'test', attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
  );
  const run = (await t.db.repos.scoring.runsOf(videoId)).find((r) => r.id === runId);
  return {
    run,
    events: await t.db.repos.scoring.eventsOf(runId),
    clips: await t.db.repos.scoring.clipsOf(runId),
  };
}

/** The clips well away from the unusual segment (a clip is 8 s; smoothing reaches one clip further). */
const normalParts = <T extends { startMs: number; endMs: number }>(clips: T[]) =>
  clips.filter((c) => c.endMs <= SEGMENT[0] - 2_000 || c.startMs >= SEGMENT[1] + 2_000);

beforeAll(async () => {
  t.track(await startRoles(['ingest', 'embed', 'aggregate'], t.config, t.logger));
  const handle = createAggregateService(t.config, t.db.repos, t.logger);
  service = handle.service;
  t.track({ close: handle.close });
  // Two normal nights of each camera, then a night with an unusual segment.
  await submit('yard-1', 'yard', 50, { durationS: 32, ...YARD });
  await submit('yard-2', 'yard', 26, { durationS: 36, ...YARD });
  await submit('yard-odd', 'yard', 2, { durationS: 48, ...unusual(YARD, 'blue') });
  await submit('furnace-1', 'furnace', 50, { durationS: 32, ...FURNACE });
  await submit('furnace-2', 'furnace', 26, { durationS: 36, ...FURNACE });
  await submit('furnace-odd', 'furnace', 2, { durationS: 48, ...unusual(FURNACE, 'green') });
  for (const id of Object.values(videos)) expect((await finished(t, id, 180_000))?.status).toBe('done');
}, 240_000);

describe('per-camera normality', () => {
  it('refuses to learn from nothing, with errors that say why, and scoring without a memory fails', async () => {
    await t.db.repos.cameras.ensure('empty');
    await expect(memory().learn('nowhere', { history: true })).rejects.toThrow('unknown camera nowhere');
    await expect(memory().learn('empty', { history: true })).rejects.toThrow(
      /camera empty has no videos recorded since .* to learn its history from/,
    );
    await expect(memory().learn('yard', {})).rejects.toThrow(/say what camera yard shows normally/);
    await expect(memory().learn('yard', { videos: [videos['furnace-1'] as string] })).rejects.toThrow(
      `not videos of camera yard: ${videos['furnace-1']}`,
    );
    await expect(memory().learn('yard', { fromReviews: true })).rejects.toThrow(
      'camera yard has no events reviewed as false alarms',
    );
    await expect(memory().learn('yard', { videos: [] })).rejects.toBeInstanceOf(NormalMemoryError);

    const before = await t.db.repos.scoring.latestRun(videos['yard-odd'] as string);
    await expect(score('yard-odd', { mode: 'normality' })).rejects.toThrow(
      'camera yard has no normal memory for model vad-test-tiny: run vad cameras learn-normal yard',
    );
    expect((await t.db.repos.scoring.latestRun(videos['yard-odd'] as string))?.id).toBe(before?.id);
    expect(await t.db.repos.normalMemory.counts((await t.db.repos.cameras.findByName('yard'))!.id)).toEqual([]);
  });

  it('mode normality: learned from normal nights, the unusual segment is an event and the normal parts are not', async () => {
    const learned = await memory().learn('yard', { videos: [videos['yard-1']!, videos['yard-2']!] });
    expect(learned.models).toEqual([
      expect.objectContaining({ model: 'vad-test-tiny', size: learned.models[0]!.read['normal-video'] }),
    ]);
    expect(learned.models[0]!.size).toBeGreaterThan(10);

    const { events, clips, run } = await score('yard-odd', { mode: 'normality' });
    expect(run?.params).toMatchObject({ mode: 'normality' });
    expect(events).toHaveLength(1);
    expect(iou([events[0]!.startMs, events[0]!.endMs], SEGMENT)).toBeGreaterThanOrEqual(0.5);
    const plain = normalParts(clips);
    expect(plain.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...plain.map((c) => c.anomalyScore))).toBeLessThan(0.2);

    // A normal night scored against the memory (its own clips left out) raises nothing.
    expect((await score('yard-1', { mode: 'normality' })).events).toEqual([]);
  });

  it('mode fused: a furnace the prompts call an explosion every night stops alarming; the unusual segment is still found', async () => {
    // The prompts alarm on the furnace all night, every night.
    const prompts = await score('furnace-odd', { mode: 'prompts' });
    expect(prompts.events.length).toBeGreaterThanOrEqual(1);
    expect(prompts.events.reduce((sum, e) => sum + e.endMs - e.startMs, 0)).toBeGreaterThan(40_000);
    expect((await score('furnace-1', { mode: 'prompts' })).events.length).toBeGreaterThanOrEqual(1);

    await memory().learn('furnace', {
      since: new Date(Date.now() - 60 * HOUR),
      until: new Date(Date.now() - 20 * HOUR),
    });
    const fused = await score('furnace-odd', { mode: 'fused' });
    expect(fused.events).toHaveLength(1);
    expect(iou([fused.events[0]!.startMs, fused.events[0]!.endMs], SEGMENT)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...normalParts(fused.clips).map((c) => c.anomalyScore))).toBeLessThan(0.2);
    // Its label is still the prompts' (green: fighting).
    expect(['Fighting', 'Assault', 'Abuse']).toContain(fused.events[0]!.label);
    for (const night of ['furnace-1', 'furnace-2']) expect((await score(night, { mode: 'fused' })).events).toEqual([]);
  });

  it('calibration: the threshold keeps the false alarms per hour of its own footage at the target, and then applies', async () => {
    const furnace = (await t.db.repos.cameras.findByName('furnace'))!;
    // Not scored in normality yet: a clear error, nothing stored.
    await expect(calibration().calibrate('furnace', { maxFalseAlarmsPerHour: 1, mode: 'normality' })).rejects.toThrow(
      /camera furnace has no videos scored in mode normality .*: rescore them in mode normality first/,
    );
    await expect(calibration().calibrate('nowhere', { maxFalseAlarmsPerHour: 1 })).rejects.toBeInstanceOf(
      CalibrationError,
    );
    expect(await t.db.repos.cameras.get(furnace.id)).toMatchObject({ threshold: null, scoringMode: null });

    // The unusual night's event is confirmed real: calibration does not count it as a false alarm.
    const [event] = await t.db.repos.scoring.eventsOf((await t.db.repos.scoring.latestRun(videos['furnace-odd']!))!.id);
    await t.db.db.insert(eventReviews).values({
      videoId: event!.videoId,
      eventId: event!.id,
      startMs: event!.startMs,
      endMs: event!.endMs,
      label: event!.label,
      verdict: 'true',
      reviewedBy: 'test',
    });
    const dry = await calibration().calibrate('furnace', { maxFalseAlarmsPerHour: 0, mode: 'fused', dryRun: true });
    expect(dry).toMatchObject({ stored: false, mode: 'fused', videos: 3, events: 0 });
    expect((await t.db.repos.cameras.get(furnace.id))?.threshold).toBeNull();

    const result = await calibration().calibrate('furnace', { maxFalseAlarmsPerHour: 0, mode: 'fused' });
    expect(result.hours * HOUR).toBeCloseTo(116_000, -3);
    expect(result.eventsPerHour).toBe(0);
    expect(result.threshold).toBeGreaterThan(0);
    expect(result.threshold).toBeLessThan(0.5);
    expect(await t.db.repos.cameras.get(furnace.id)).toMatchObject({ scoringMode: 'fused' });

    // The camera is now scored in its mode with its threshold: no false alarm on its normal nights
    // (at most the target per hour), the confirmed incident still found.
    for (const night of ['furnace-1', 'furnace-2']) {
      const again = await score(night);
      expect(again.run?.params).toMatchObject({ mode: 'fused', threshold: result.threshold });
      expect(again.events).toEqual([]);
    }
    const odd = await score('furnace-odd');
    expect(odd.events).toHaveLength(1);
    // A rescore asking for a mode other than the calibrated one gets the configured threshold.
    expect((await score('furnace-odd', { mode: 'prompts' })).run?.params).toMatchObject({
      mode: 'prompts',
      threshold: t.config.scoring.threshold,
    });
    // A target of one per hour on about two minutes of footage allows none either: the same threshold.
    expect((await calibration().calibrate('furnace', { maxFalseAlarmsPerHour: 1, dryRun: true })).threshold).toBe(
      result.threshold,
    );
    const listed = (await t.db.repos.cameras.list()).find((c) => c.name === 'furnace');
    expect(listed).toMatchObject({ scoringMode: 'fused' });
    await calibration().reset('furnace');
    expect(await t.db.repos.cameras.get(furnace.id)).toMatchObject({ threshold: null, scoringMode: null });
  });

  it('history: the recent videos minus the events confirmed real', async () => {
    const furnace = (await t.db.repos.cameras.findByName('furnace'))!;
    // furnace-odd's segment was confirmed real (calibration test): its clips stay out.
    const [confirmed] = await t.db.repos.normalMemory.reviewSpans(furnace.id, 'true');
    expect(confirmed?.videoId).toBe(videos['furnace-odd']);
    const learned = await memory().learn('furnace', { history: true, clear: true });
    expect(learned.videos).toBe(3);
    expect(learned.models[0]!.kept).toMatchObject({ history: learned.models[0]!.size, 'normal-video': 0 });
    const rows = await t.db.repos.normalMemory.load(furnace.id, 'vad-test-tiny');
    const odd = rows.filter((r) => r.videoId === videos['furnace-odd']);
    // 11 clips of 8 s every 4 s; those overlapping the confirmed span are left out, the rest learned.
    const overlapping = (i: number) => i * 4_000 < confirmed!.endMs && confirmed!.startMs < i * 4_000 + 8_000;
    expect(odd.length).toBeGreaterThan(0);
    expect(odd.some((r) => overlapping(r.clipIndex))).toBe(false);
    expect(odd.length).toBe([...Array(11).keys()].filter((i) => !overlapping(i)).length);
    // The unusual segment is still unusual for the furnace.
    expect((await score('furnace-odd', { mode: 'fused' })).events).toHaveLength(1);
  });

  it('false alarms an operator marks feed the memory; --clear of a source removes only that', async () => {
    const yard = (await t.db.repos.cameras.findByName('yard'))!;
    const [event] = (await score('yard-odd', { mode: 'normality' })).events;
    await t.db.db.insert(eventReviews).values({
      videoId: event!.videoId,
      eventId: event!.id,
      startMs: event!.startMs,
      endMs: event!.endMs,
      label: event!.label,
      verdict: 'false',
      reviewedBy: 'test',
    });
    const learned = await memory().learn('yard', { fromReviews: true });
    expect(learned.models[0]!.kept['false-alarm']).toBeGreaterThan(0);
    expect(learned.models[0]!.kept['normal-video']).toBeGreaterThan(0);
    // The blue segment is normal for the yard now.
    expect((await score('yard-odd', { mode: 'normality' })).events).toEqual([]);

    const cleared = await memory().learn('yard', { clear: 'false-alarm' });
    expect(cleared.cleared).toBe(learned.models[0]!.kept['false-alarm']);
    expect((await t.db.repos.normalMemory.counts(yard.id)).map((c) => c.source)).toEqual(['normal-video']);
    expect((await score('yard-odd', { mode: 'normality' })).events).toHaveLength(1);
  });
});
