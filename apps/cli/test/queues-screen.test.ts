import { type Backlog, forecastWindow, type HealthReport, type QueueHealth } from '@vad/operations';
import { ProcessingWindow } from '@vad/schedule';
import { describe, expect, it } from 'vitest';
import { renderHealth } from '../src/commands/queues.js';
import { formatClockTime } from '../src/format.js';

const display = { timeZone: 'Europe/Berlin' };
const window = ProcessingWindow.parse('22:00-06:00', 'Europe/Berlin');

function queue(name: QueueHealth['name'], held: QueueHealth['held']): QueueHealth {
  return {
    name,
    isPaused: false,
    counts: {
      waiting: 0,
      prioritized: 0,
      active: 0,
      delayed: held.jobs,
      failed: 0,
      completed: 0,
      waitingChildren: 0,
    },
    oldestWaitingMs: null,
    throughputPerMinute: { m1: 0, m5: 0, m15: 0 },
    completedPerMinute: new Array(60).fill(0),
    processingMs: { samples: 0, mean: null, p95: null },
    workers: 1,
    failureReasons: [],
    held,
  };
}

describe('vad queues while the processing window is closed', () => {
  // 15:00 in Berlin: the window opens at 22:00.
  const at = new Date('2026-11-30T14:00:00Z');
  const opensAt = new Date('2026-11-30T21:00:00Z');
  const backlog: Backlog = {
    videos: 12,
    videoSeconds: 12 * 600,
    urgent: { videos: 2, videoSeconds: 1200 },
    videoSecondsPerSecond: 5,
    perVideoSeconds: 20,
    secondsPerVideoSecond: 0.2,
    rateWindowMinutes: 15,
    drainSeconds: 12 * 20 + 7200 * 0.2,
    drainAt: new Date(at.getTime() + (12 * 20 + 7200 * 0.2) * 1000),
  };
  const report: HealthReport = {
    at,
    queues: [
      queue('ingest', { jobs: 10, until: opensAt }),
      queue('embed', { jobs: 0, until: null }),
      queue('aggregate', { jobs: 0, until: null }),
    ],
    backlog,
    forecast: forecastWindow(backlog, window, at),
  };
  const screen = renderHealth(report, display);

  it('shows what is held and until when, in the operator zone', () => {
    expect(screen).toContain(
      'processing window 22:00-06:00 Europe/Berlin: closed, opens 22:00 (Europe/Berlin); urgent uploads run now',
    );
    expect(screen).toContain('held until 22:00 (Europe/Berlin): ingest 10 jobs');
    expect(screen).toContain('held until 22:00 (Europe/Berlin): 10 videos, 1h40m00s of footage');
  });

  it('gives urgent work and held work one finish time each, and no drain time from now', () => {
    // Urgent: 2 × 20 s + 1200 s × 0.2 = 280 s from 15:00 → 15:04:40; held: from 22:00, 10 × 20 s + 6000 s × 0.2 = 1400 s.
    expect(screen).toContain('urgent, running now: 2 videos, 20m00s of footage, done at 2026-11-30T15:04:40+01:00');
    expect(screen).toContain('done at 2026-11-30T22:23:20+01:00');
    expect(screen).toContain('5.0× real time, 20 s per video');
    expect(screen).not.toContain('drains in');
    expect(screen.match(/done at/g)).toHaveLength(2);
  });

  it('names the day of a clock time that is not within the next 24 hours', () => {
    expect(formatClockTime(new Date('2026-12-02T21:00:00Z'), display, at.getTime())).toBe(
      '22:00 on 2026-12-02 (Europe/Berlin)',
    );
  });
});
