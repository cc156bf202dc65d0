import { formatDateTime } from '@vad/schedule';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h
    ? `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
    : `${m}m${String(s).padStart(2, '0')}s`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** Left-aligned columns, for small tables printed to a terminal. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** How the CLI shows times: in VAD_TIMEZONE, or in UTC with `vad --utc`. */
export interface TimeDisplay {
  timeZone: string;
  utc?: boolean;
}

/**
 * A time for people: ISO 8601 in the display zone with its offset, to the
 * second (`2026-11-30T23:15:02+01:00`, or `2026-11-30T22:15:02Z` with --utc);
 * `none` when there is no time.
 */
export function formatTime(date: Date | null | undefined, display: TimeDisplay, none = '-'): string {
  return date ? formatDateTime(date, display.timeZone, { utc: display.utc }) : none;
}

/** A time for programs (JSON, CSV): as formatTime, to the millisecond, so no precision is lost. */
export function formatTimeExact(date: Date, display: TimeDisplay): string {
  return formatDateTime(date, display.timeZone, { utc: display.utc, milliseconds: true });
}

/** A CSV cell: times as formatTimeExact writes them, quoted when the text needs it. */
export function csvCell(value: unknown, display: TimeDisplay): string {
  const text = value instanceof Date ? formatTimeExact(value, display) : String(value ?? '');
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** JSON.stringify(value, null, 2), every Date in it written by formatTimeExact (not in UTC as toJSON would). */
export function toJson(value: unknown, display: TimeDisplay): string {
  return JSON.stringify(
    value,
    function (this: Record<string, unknown>, key, item) {
      const original = this[key];
      return original instanceof Date && !Number.isNaN(original.getTime()) ? formatTimeExact(original, display) : item;
    },
    2,
  );
}

/**
 * A wall-clock time as an operator reads a schedule: `22:00 (Europe/Berlin)`,
 * with the day when it is not within the next 24 hours
 * (`22:00 on 2026-12-02 (Europe/Berlin)`).
 */
export function formatClockTime(date: Date, display: TimeDisplay, now: number = Date.now()): string {
  const timeZone = display.utc ? 'UTC' : display.timeZone;
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const soon = date.getTime() >= now && date.getTime() - now < 24 * 3_600_000;
  return `${clock.format(date)}${soon ? '' : ` on ${day.format(date)}`} (${timeZone})`;
}
