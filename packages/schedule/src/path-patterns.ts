import { DateTime } from 'luxon';
import { wallClockToInstant } from './local-time.js';

/**
 * The camera named by a path, from a regular expression with a `camera`
 * group (or its first group), matched against the path relative to the
 * watched folder: `^(?<camera>[^/]+)/` takes the first folder.
 */
export function cameraFromPath(relativePath: string, pattern: RegExp): string | undefined {
  const match = pattern.exec(relativePath);
  const value = match?.groups?.camera ?? match?.[1];
  return value?.trim() || undefined;
}

/**
 * The recording's start time from its path, by a regular expression with
 * named groups `year`, `month`, `day` and optionally `hour`, `minute`,
 * `second` (wall-clock time in `timeZone`, read as `parseDateTime` reads a
 * time without an offset, DST days included), or `epoch` (Unix seconds):
 * `(?<year>\d{4})(?<month>\d\d)(?<day>\d\d)_(?<hour>\d\d)(?<minute>\d\d)(?<second>\d\d)`
 * reads `gate_20261128_220000.mp4`. Undefined when it does not match or is
 * not a real date.
 */
export function recordedAtFromPath(relativePath: string, pattern: RegExp, timeZone: string): Date | undefined {
  const groups = pattern.exec(relativePath)?.groups;
  if (!groups) return undefined;
  if (groups.epoch) {
    const seconds = Number(groups.epoch);
    return Number.isFinite(seconds) ? new Date(seconds * 1000) : undefined;
  }
  const n = (name: string) => (groups[name] === undefined ? 0 : Number(groups[name]));
  if (!groups.year || !groups.month || !groups.day) return undefined;
  const wall = DateTime.fromObject(
    { year: n('year'), month: n('month'), day: n('day'), hour: n('hour'), minute: n('minute'), second: n('second') },
    { zone: 'UTC' },
  );
  return wall.isValid ? new Date(wallClockToInstant(wall.toMillis(), timeZone)) : undefined;
}

/** A user's pattern as a RegExp, or an error naming what is wrong. */
export function compilePattern(text: string, what: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw new Error(`${what}: not a valid regular expression (${(error as Error).message})`);
  }
}
