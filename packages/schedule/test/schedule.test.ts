import { describe, expect, it } from 'vitest';
import { cameraFromPath, fairPriority, ProcessingWindow, recordedAtFromPath } from '../src/index.js';

const utc = (iso: string) => new Date(iso);

describe('ProcessingWindow', () => {
  const night = ProcessingWindow.parse('22:00-06:00', 'Europe/Berlin')!;

  it('crosses midnight: open from 22:00 to 06:00 local, closed during the day', () => {
    expect(night.crossesMidnight).toBe(true);
    // Berlin is UTC+1 in November.
    expect(night.isOpen(utc('2026-11-28T20:59:59Z'))).toBe(false); // 21:59:59 local
    expect(night.isOpen(utc('2026-11-28T21:00:00Z'))).toBe(true); // 22:00
    expect(night.isOpen(utc('2026-11-28T23:30:00Z'))).toBe(true); // 00:30 the next day
    expect(night.isOpen(utc('2026-11-29T04:59:59Z'))).toBe(true); // 05:59:59
    expect(night.isOpen(utc('2026-11-29T05:00:00Z'))).toBe(false); // 06:00
    expect(night.current(utc('2026-11-29T01:00:00Z'))).toEqual({
      opensAt: utc('2026-11-28T21:00:00Z'),
      closesAt: utc('2026-11-29T05:00:00Z'),
    });
  });

  it('says when the next window opens, and when work may start', () => {
    const afternoon = utc('2026-11-29T14:00:00Z');
    expect(night.next(afternoon)).toEqual({
      opensAt: utc('2026-11-29T21:00:00Z'),
      closesAt: utc('2026-11-30T05:00:00Z'),
    });
    expect(night.runnableAt(afternoon)).toEqual(utc('2026-11-29T21:00:00Z'));
    const inside = utc('2026-11-29T22:00:00Z');
    expect(night.runnableAt(inside)).toEqual(inside);
    // Inside a window, `next` is tomorrow's.
    expect(night.next(inside).opensAt).toEqual(utc('2026-11-30T21:00:00Z'));
  });

  it('keeps local hours across the spring DST change: that night is 7 hours long', () => {
    // Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST.
    const span = night.current(utc('2026-03-29T00:30:00Z'))!;
    expect(span.opensAt).toEqual(utc('2026-03-28T21:00:00Z')); // 22:00 CET
    expect(span.closesAt).toEqual(utc('2026-03-29T04:00:00Z')); // 06:00 CEST
    expect((span.closesAt.getTime() - span.opensAt.getTime()) / 3_600_000).toBe(7);
    expect(night.isOpen(utc('2026-03-29T04:30:00Z'))).toBe(false); // 06:30 CEST
  });

  it('and across the autumn change: that night is 9 hours long', () => {
    // Europe/Berlin: 2026-10-25 03:00 CEST → 02:00 CET.
    const span = night.current(utc('2026-10-25T01:30:00Z'))!;
    expect(span.opensAt).toEqual(utc('2026-10-24T20:00:00Z')); // 22:00 CEST
    expect(span.closesAt).toEqual(utc('2026-10-25T05:00:00Z')); // 06:00 CET
    expect((span.closesAt.getTime() - span.opensAt.getTime()) / 3_600_000).toBe(9);
  });

  it('moves a start that does not exist on the DST day forward by the gap', () => {
    const early = ProcessingWindow.parse('02:30-05:00', 'Europe/Berlin')!;
    expect(early.crossesMidnight).toBe(false);
    const span = early.next(utc('2026-03-28T12:00:00Z'));
    expect(span.opensAt).toEqual(utc('2026-03-29T01:30:00Z')); // 03:30 CEST
    expect(span.closesAt).toEqual(utc('2026-03-29T03:00:00Z')); // 05:00 CEST
  });

  it('works for a window inside one day and in other zones', () => {
    const lunch = ProcessingWindow.parse('12:00-13:30', 'America/New_York')!;
    expect(lunch.isOpen(utc('2026-07-01T16:15:00Z'))).toBe(true); // 12:15 EDT
    expect(lunch.isOpen(utc('2026-07-01T17:30:00Z'))).toBe(false); // 13:30 EDT
  });

  it('refuses what is not a window', () => {
    expect(ProcessingWindow.parse('22-06', 'UTC')).toBeUndefined();
    expect(ProcessingWindow.parse('25:00-06:00', 'UTC')).toBeUndefined();
    expect(() => ProcessingWindow.parse('22:00-22:00', 'UTC')).toThrow(/same time/);
    expect(() => ProcessingWindow.parse('22:00-06:00', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('fairPriority', () => {
  it('interleaves cameras: the hundredth upload of one camera waits behind the first of another', () => {
    const busy = Array.from({ length: 100 }, (_, waiting) => fairPriority(waiting));
    expect(busy.slice(0, 3)).toEqual([2, 3, 4]);
    expect(fairPriority(0)).toBeLessThan(busy[1]!);
    // Weight 200 advances twice as fast as weight 100.
    expect(fairPriority(10, 200)).toBe(7);
    expect(fairPriority(10, 100)).toBe(12);
    expect(fairPriority(10_000_000, 1)).toBe(2_097_152);
  });
});

describe('path patterns', () => {
  it('takes the camera from a folder and the time from the file name, in the configured zone', () => {
    const path = 'gate/2026-11-28/gate_20261128_220000.mp4';
    expect(cameraFromPath(path, /^(?<camera>[^/]+)\//)).toBe('gate');
    expect(cameraFromPath(path, /^([^/]+)\//)).toBe('gate');
    expect(cameraFromPath(path, /^nomatch/)).toBeUndefined();
    const pattern = /(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)_(?<hour>\d\d)(?<minute>\d\d)(?<second>\d\d)/;
    expect(recordedAtFromPath(path, pattern, 'Europe/Berlin')).toEqual(utc('2026-11-28T21:00:00Z'));
    expect(recordedAtFromPath('cam/1795900000.mp4', /(?<epoch>\d{10})/, 'UTC')).toEqual(new Date(1_795_900_000_000));
    expect(recordedAtFromPath('gate_20261399_220000.mp4', pattern, 'UTC')).toBeUndefined();
  });

  it('reads file-name times on DST days as CLI and API times are read: the gap moves forward, a repeated hour is its first', () => {
    const pattern = /(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)_(?<hour>\d\d)(?<minute>\d\d)(?<second>\d\d)/;
    expect(recordedAtFromPath('gate_20261025_023000.mp4', pattern, 'Europe/Berlin')).toEqual(
      utc('2026-10-25T00:30:00Z'),
    );
    expect(recordedAtFromPath('gate_20260329_023000.mp4', pattern, 'Europe/Berlin')).toEqual(
      utc('2026-03-29T01:30:00Z'),
    );
  });
});
