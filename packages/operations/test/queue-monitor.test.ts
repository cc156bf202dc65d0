import { ProcessingWindow } from '@vad/schedule';
import { describe, expect, it } from 'vitest';
import {
  type Backlog,
  completedHistory,
  completedInWindow,
  drainModel,
  forecastWindow,
  percentile,
  ratePerMinute,
  topFailureReasons,
} from '../src/index.js';

const minute = 60_000;
const now = Date.UTC(2026, 10, 29, 3, 30, 20);

/** BullMQ's per-minute metrics after jobs completed at these times (its collectMetrics, step by step). */
function metricsAfter(completions: number[]) {
  let count = 0;
  let prevTS = 0;
  let prevCount = 0;
  const data: number[] = [];
  for (const t of completions) {
    const before = count;
    count += 1;
    if (!prevTS) {
      prevTS = t;
      prevCount = 0;
      continue;
    }
    const n = Math.floor(t / minute) - Math.floor(prevTS / minute);
    if (n > 0) {
      // LPUSH delta, 0, 0…: the zeros end up nearest the head.
      data.unshift(...new Array<number>(n - 1).fill(0), before - prevCount);
      prevCount = before;
      prevTS = t;
    }
  }
  return { meta: { count, prevTS, prevCount }, data };
}

describe('queue monitor arithmetic', () => {
  // 3 jobs 20 min ago, 2 jobs 4 min ago, 4 jobs this minute.
  const times = [
    now - 20 * minute,
    now - 20 * minute + 1000,
    now - 20 * minute + 2000,
    now - 4 * minute,
    now - 4 * minute + 500,
    now - 15_000,
    now - 10_000,
    now - 5000,
    now - 1000,
  ];
  const metrics = metricsAfter(times);

  it('counts completions in the last 1, 5 and 15 minutes from BullMQ metrics', () => {
    expect(completedInWindow(metrics, 1, now)).toBe(4);
    expect(completedInWindow(metrics, 5, now)).toBe(6);
    expect(completedInWindow(metrics, 15, now)).toBe(6);
    expect(completedInWindow(metrics, 30, now)).toBe(9);
    // An hour later nothing is recent.
    expect(completedInWindow(metrics, 15, now + 60 * minute)).toBe(0);
  });

  it('turns them into rates that do not collapse when a minute starts', () => {
    // now is 20 s into its minute: 4 jobs in those 20 s and none in the full minute before.
    expect(ratePerMinute(metrics, 1, now)).toBeCloseTo(4 / (1 + 20 / 60));
    // 5 full minutes + 20 s: 6 jobs.
    expect(ratePerMinute(metrics, 5, now)).toBeCloseTo(6 / (5 + 20 / 60));
    const startOfNextMinute = now + 40_000 + 1;
    expect(ratePerMinute(metrics, 1, startOfNextMinute)).toBeGreaterThan(3.9);
  });

  it('lays them out minute by minute, oldest first, for a chart', () => {
    const history = completedHistory(metrics, 60, now);
    expect(history).toHaveLength(60);
    expect(history[59]).toBe(4);
    expect(history[55]).toBe(2);
    expect(history[39]).toBe(3);
    expect(history.reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 50)).toBe(50);
  });

  it('groups failure reasons by their first line, most frequent first', () => {
    expect(
      topFailureReasons(['no such file\nstack', 'no such file\nother stack', 'moov atom not found', undefined]),
    ).toEqual([
      { reason: 'no such file', count: 2 },
      { reason: 'moov atom not found', count: 1 },
      { reason: 'unknown', count: 1 },
    ]);
  });
});

describe('backlog forecast against the processing window', () => {
  const window = ProcessingWindow.parse('22:00-06:00', 'UTC')!;
  const backlog = (drainHours: number, urgent = { videos: 0, videoSeconds: 0 }): Backlog => ({
    videos: 40,
    videoSeconds: 40 * 3600,
    urgent,
    videoSecondsPerSecond: 40 / drainHours,
    perVideoSeconds: 0,
    secondsPerVideoSecond: drainHours / 40,
    rateWindowMinutes: 15,
    drainSeconds: drainHours * 3600,
    drainAt: null,
  });

  it('counts from the next opening when the window is closed, and says it fits', () => {
    const f = forecastWindow(backlog(6), window, new Date('2026-11-29T15:00:00Z'));
    expect(f).toMatchObject({ isOpen: false, finishesInWindow: true, warning: null });
    expect(f.opensAt).toEqual(new Date('2026-11-29T22:00:00Z'));
    expect(f.finishAt).toEqual(new Date('2026-11-30T04:00:00Z'));
  });

  it('warns when the backlog will not be done before the window closes', () => {
    const f = forecastWindow(backlog(6), window, new Date('2026-11-30T01:00:00Z'));
    expect(f.isOpen).toBe(true);
    expect(f.finishAt).toEqual(new Date('2026-11-30T07:00:00Z'));
    expect(f.finishesInWindow).toBe(false);
    expect(f.warning).toMatch(/needs 6\.0 h at the recent rate but the window has 5\.0 h/);
  });

  it('without a window, or without a rate, says no more than it knows', () => {
    expect(forecastWindow(backlog(2), undefined, new Date('2026-11-30T01:00:00Z'))).toMatchObject({
      window: null,
      finishesInWindow: null,
      finishAt: new Date('2026-11-30T03:00:00Z'),
    });
    const unknown = { ...backlog(1), videoSecondsPerSecond: null, secondsPerVideoSecond: null, drainSeconds: null };
    expect(forecastWindow(unknown, window, new Date('2026-11-30T01:00:00Z'))).toMatchObject({
      finishAt: null,
      finishesInWindow: null,
      warning: null,
    });
  });

  it('while closed, gives urgent work (running now) and held work (from the opening) one time each', () => {
    // 4 urgent one-hour videos of 40: at 6 h for 40 h of footage they take 36 min, from now.
    const f = forecastWindow(
      backlog(6, { videos: 4, videoSeconds: 4 * 3600 }),
      window,
      new Date('2026-11-29T21:50:00Z'),
    );
    expect(f.isOpen).toBe(false);
    expect(f.held).toEqual({ videos: 36, videoSeconds: 36 * 3600, until: new Date('2026-11-29T22:00:00Z') });
    expect(f.urgentDoneAt).toEqual(new Date('2026-11-29T22:26:00Z'));
    // The held 36 h take 5.4 h, from when the urgent work is done (after the opening).
    expect(f.finishAt).toEqual(new Date('2026-11-30T03:50:00Z'));
    expect(f.finishesInWindow).toBe(true);
  });

  it('says short spans in minutes or seconds, never "0.0 h"', () => {
    const small: Backlog = { ...backlog(6), videos: 2, videoSeconds: 60, secondsPerVideoSecond: 1, drainSeconds: 60 };
    const f = forecastWindow(small, window, new Date('2026-11-30T05:59:30Z'));
    expect(f.warning).toMatch(/needs 60 s at the recent rate but the window has 30 s/);
  });
});

describe('drain model', () => {
  const recent = { videos: 20, durationMs: 20 * 600_000, busyMs: 4_000_000, elapsedMs: 8_000_000 };

  it('charges each video its overhead, as measured across short and long videos', () => {
    // 20 s per video plus 0.3 s per second of video per video, two videos side by side.
    const model = drainModel({ ...recent, fit: { overheadMs: 20_000, msPerVideoMs: 0.3 } });
    expect(model.perVideoSeconds).toBeCloseTo(10);
    expect(model.secondsPerVideoSecond).toBeCloseTo(0.15);
  });

  it('falls back to footage over busy time when no line can be fitted', () => {
    expect(drainModel({ ...recent, fit: null })).toEqual({
      perVideoSeconds: 0,
      secondsPerVideoSecond: 4_000_000 / 12_000_000,
    });
    expect(drainModel({ ...recent, fit: { overheadMs: -5, msPerVideoMs: 0.4 } }).perVideoSeconds).toBe(0);
    expect(drainModel({ ...recent, videos: 0, fit: null }).secondsPerVideoSecond).toBeNull();
  });
});
