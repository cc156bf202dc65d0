import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * vad's one rule for times people type: a date-time with an offset (`Z`,
 * `+01:00`) is that instant; one without an offset is wall-clock time in the
 * configured zone (VAD_TIMEZONE), the same zone the processing window and
 * file-name times use. The machine's own zone never matters.
 */

// 2026-11-28, 2026-11-28T22:00, 2026-11-28 22:00:05.250, 2026-11-28T22:00:00+01:00, 2026-11-28T21:00:00Z
const DATE_TIME =
  /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d\d):?(\d\d))?)?$/;

const DAY_MS = 86_400_000;

/** An example of what parseDateTime takes, for help texts and error messages. */
export const DATE_TIME_EXAMPLE = '2026-11-28T22:00:00+01:00';

/**
 * The instant a date-time names, e.g. `2026-11-28T22:00:00+01:00`,
 * `2026-11-28T21:00:00Z`, `2026-11-28T22:00` or `2026-11-28 22:00:05.5`
 * (ISO 8601 / RFC 3339: `T` or a space between date and time; seconds and
 * fractions optional; an offset as `Z`, `±HH:MM` or `±HHMM`), or a plain
 * date `2026-11-28` (midnight). With an offset it is taken as is; without
 * one it is wall-clock time in `timeZone` (an IANA name).
 *
 * At a DST change a wall-clock time is not always one instant:
 * - A time that does not exist (clocks jump from 02:00 to 03:00, so
 *   2026-03-29T02:30 in Europe/Berlin) moves forward by the gap: 03:30+02:00
 *   (what luxon does, and what the processing window does).
 * - A time that happens twice (clocks go back from 03:00 to 02:00, so
 *   2026-10-25T02:30 in Europe/Berlin) means its FIRST occurrence, the
 *   earlier instant: 02:30+02:00 (luxon alone would take the later, +01:00).
 *   Write the offset to mean the second one.
 *
 * Throws an Error saying what is wrong for anything else: another format, a
 * date that is not in the calendar (2026-02-30), an unknown time zone.
 */
export function parseDateTime(text: string, timeZone: string): Date {
  const match = DATE_TIME.exec(text.trim());
  if (!match) {
    throw new Error(
      `"${clip(text)}" is not an ISO 8601 date-time: write e.g. ${DATE_TIME_EXAMPLE}, or 2026-11-28T22:00 for ${timeZone} time`,
    );
  }
  const [, year, month, day, hour, minute, second, fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  const wall = DateTime.fromObject(
    {
      year: Number(year),
      month: Number(month),
      day: Number(day),
      hour: Number(hour ?? 0),
      minute: Number(minute ?? 0),
      second: Number(second ?? 0),
      millisecond: fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0,
    },
    { zone: 'utc' },
  );
  // luxon takes 24:00 as the end of the day; RFC 3339 (and vad) do not.
  if (!wall.isValid || Number(hour) > 23) {
    throw new Error(`"${clip(text)}" is not a real date-time (${wall.invalidExplanation ?? 'hours go to 23'})`);
  }
  // The wall-clock reading as if it were UTC; the instant is this minus the offset in effect.
  const local = wall.toMillis();
  if (zulu) return new Date(local);
  if (sign) {
    const hours = Number(offsetHours);
    const minutes = Number(offsetMinutes);
    if (hours > 23 || minutes > 59) throw new Error(`"${clip(text)}" has an offset out of range (-23:59..+23:59)`);
    return new Date(local - (sign === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000);
  }
  return new Date(wallClockToInstant(local, timeZone));
}

/**
 * The instant (epoch ms) at which clocks in `timeZone` read `local` (a
 * wall-clock reading written as epoch ms in UTC); DST as parseDateTime says.
 */
export function wallClockToInstant(local: number, timeZone: string): number {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new Error(`unknown time zone "${timeZone}"`);
  // The offsets in effect a day before and a day after: the only ones this reading can have
  // (zones change their offset at most once in two days).
  const before = zone.offset(local - DAY_MS);
  const after = zone.offset(local + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset * 60_000)
    .filter((instant) => local - zone.offset(instant) * 60_000 === instant);
  // Both: a reading that happens twice, the earlier instant. None: in the gap, moved forward by it.
  return candidates.length ? Math.min(...candidates) : local - before * 60_000;
}

/**
 * A date-time as people read it in `timeZone`, ISO 8601 with the zone's
 * offset and to the second: `2026-11-30T23:15:02+01:00`; with `utc`, in UTC:
 * `2026-11-30T22:15:02Z`; with `milliseconds`, to the millisecond (for
 * programs: `2026-11-30T23:15:02.789+01:00`, or in UTC exactly what
 * Date#toISOString writes). UTC itself (VAD_TIMEZONE=UTC) is written with `Z`.
 */
export function formatDateTime(
  date: Date,
  timeZone: string,
  options: { utc?: boolean; milliseconds?: boolean } = {},
): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid time value');
  const at = DateTime.fromJSDate(date, { zone: options.utc ? 'utc' : timeZone });
  if (!at.isValid) throw new Error(`unknown time zone "${timeZone}"`);
  const text = options.milliseconds ? at.toISO() : at.startOf('second').toISO({ suppressMilliseconds: true });
  return text ?? date.toISOString();
}

/**
 * A zod schema for a date-time people type (a CLI option, an API query or
 * body value), read by parseDateTime in `timeZone`: the Date, or an issue
 * with `message` (default: what the values look like; it never echoes the value).
 */
export function dateTimeSchema(timeZone: string, message = dateTimeHint(timeZone)) {
  return z.string().transform((text, ctx) => {
    try {
      return parseDateTime(text, timeZone);
    } catch {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
  });
}

/** "must be an ISO 8601 date-time, e.g. …" for error messages. */
export function dateTimeHint(timeZone: string): string {
  return `must be an ISO 8601 date-time, e.g. ${DATE_TIME_EXAMPLE} (without an offset: ${timeZone} time)`;
}

const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

/**
 * The last `count` nights up to the one `now` falls in, oldest first: a night
 * runs from noon to noon in `timeZone` and is named by its evening's date
 * ("2026-11-29" is 29 Nov 12:00 to 30 Nov 12:00); `since` is the oldest's noon.
 */
export function recentNights(now: Date, count: number, timeZone: string): { names: string[]; since: Date } {
  const current = DateTime.fromJSDate(now, { zone: timeZone }).minus({ hours: 12 }).startOf('day');
  if (!current.isValid) throw new Error(`unknown time zone "${timeZone}"`);
  const oldest = current.minus({ days: count - 1 });
  const names = Array.from({ length: count }, (_, i) => oldest.plus({ days: i }).toISODate() ?? '');
  return { names, since: oldest.set({ hour: 12 }).toJSDate() };
}
