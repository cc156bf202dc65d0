import { describe, expect, it } from 'vitest';
import { dateTimeSchema, formatDateTime, parseDateTime } from '../src/index.js';

const utc = (iso: string) => new Date(iso);
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

describe('parseDateTime', () => {
  it('takes a time with an offset or Z as is, whatever the zone', () => {
    expect(parseDateTime('2026-11-30T00:00:00+01:00', NEW_YORK)).toEqual(utc('2026-11-29T23:00:00Z'));
    expect(parseDateTime('2026-11-30T00:00:00Z', BERLIN)).toEqual(utc('2026-11-30T00:00:00Z'));
    expect(parseDateTime('2026-11-30T00:00:00-0500', BERLIN)).toEqual(utc('2026-11-30T05:00:00Z'));
    expect(parseDateTime('2026-11-30T05:30:00.250+05:30', BERLIN)).toEqual(utc('2026-11-30T00:00:00.250Z'));
    // The offset wins even in the hour that happens twice in the zone.
    expect(parseDateTime('2026-10-25T02:30:00+01:00', BERLIN)).toEqual(utc('2026-10-25T01:30:00Z'));
  });

  it('reads a time without an offset as wall-clock time in the zone: Berlin winter (+01:00) and summer (+02:00)', () => {
    expect(parseDateTime('2026-11-30T00:00:00', BERLIN)).toEqual(utc('2026-11-29T23:00:00Z'));
    expect(parseDateTime('2026-07-01T12:00:00', BERLIN)).toEqual(utc('2026-07-01T10:00:00Z'));
    // Minutes only, a space instead of T, fractions; a plain date is midnight in the zone.
    expect(parseDateTime('2026-11-30T08:15', BERLIN)).toEqual(utc('2026-11-30T07:15:00Z'));
    expect(parseDateTime('2026-11-30 08:15:30.5', BERLIN)).toEqual(utc('2026-11-30T07:15:30.500Z'));
    expect(parseDateTime('2026-11-30', BERLIN)).toEqual(utc('2026-11-29T23:00:00Z'));
    expect(parseDateTime('2026-11-30T00:00:00', 'UTC')).toEqual(utc('2026-11-30T00:00:00Z'));
  });

  it('does not depend on the machine zone', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      expect(parseDateTime('2026-11-30T00:00:00', BERLIN)).toEqual(utc('2026-11-29T23:00:00Z'));
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('moves a time in the spring-forward gap forward by the gap', () => {
    // Europe/Berlin, 2026-03-29: 02:00 CET → 03:00 CEST; 02:30 does not exist, it is 03:30 CEST.
    expect(parseDateTime('2026-03-29T02:30:00', BERLIN)).toEqual(utc('2026-03-29T01:30:00Z'));
    expect(formatDateTime(parseDateTime('2026-03-29T02:30', BERLIN), BERLIN)).toBe('2026-03-29T03:30:00+02:00');
    // Either side of the gap is as written.
    expect(parseDateTime('2026-03-29T01:59:59', BERLIN)).toEqual(utc('2026-03-29T00:59:59Z'));
    expect(parseDateTime('2026-03-29T03:00:00', BERLIN)).toEqual(utc('2026-03-29T01:00:00Z'));
  });

  it('reads a time that happens twice (fall back) as its first occurrence, the earlier instant', () => {
    // Europe/Berlin, 2026-10-25: 03:00 CEST → 02:00 CET; 02:00–02:59:59 happen twice.
    expect(parseDateTime('2026-10-25T02:30:00', BERLIN)).toEqual(utc('2026-10-25T00:30:00Z')); // 02:30+02:00
    expect(parseDateTime('2026-10-25T02:00:00', BERLIN)).toEqual(utc('2026-10-25T00:00:00Z'));
    expect(parseDateTime('2026-10-25T02:59:59', BERLIN)).toEqual(utc('2026-10-25T00:59:59Z'));
    // Either side of the repeated hour is unambiguous.
    expect(parseDateTime('2026-10-25T01:59:59', BERLIN)).toEqual(utc('2026-10-24T23:59:59Z'));
    expect(parseDateTime('2026-10-25T03:00:00', BERLIN)).toEqual(utc('2026-10-25T02:00:00Z'));
    expect(formatDateTime(parseDateTime('2026-10-25T02:30', BERLIN), BERLIN)).toBe('2026-10-25T02:30:00+02:00');
  });

  it('applies the same rules in America/New_York', () => {
    expect(parseDateTime('2026-11-30T00:00:00', NEW_YORK)).toEqual(utc('2026-11-30T05:00:00Z')); // EST
    expect(parseDateTime('2026-07-04T09:00', NEW_YORK)).toEqual(utc('2026-07-04T13:00:00Z')); // EDT
    // 2026-03-08 02:00 EST → 03:00 EDT: 02:30 is 03:30 EDT.
    expect(parseDateTime('2026-03-08T02:30:00', NEW_YORK)).toEqual(utc('2026-03-08T07:30:00Z'));
    // 2026-11-01 02:00 EDT → 01:00 EST: 01:30 is first 01:30 EDT.
    expect(parseDateTime('2026-11-01T01:30:00', NEW_YORK)).toEqual(utc('2026-11-01T05:30:00Z'));
  });

  it('refuses what is not a date-time, saying what is expected', () => {
    expect(() => parseDateTime('yesterday', BERLIN)).toThrow(
      '"yesterday" is not an ISO 8601 date-time: write e.g. 2026-11-28T22:00:00+01:00, or 2026-11-28T22:00 for Europe/Berlin time',
    );
    for (const text of [
      '',
      '2026-11-30T00',
      '30.11.2026',
      '2026-11-30T00:00:00+01:00:00',
      '2026-W48-1',
      '1764460800',
    ]) {
      expect(() => parseDateTime(text, BERLIN), text).toThrow('is not an ISO 8601 date-time');
    }
    expect(() => parseDateTime('2026-02-30T00:00:00', BERLIN)).toThrow('"2026-02-30T00:00:00" is not a real date-time');
    expect(() => parseDateTime('2026-11-30T24:00:00Z', BERLIN)).toThrow('is not a real date-time');
    expect(() => parseDateTime('2026-11-30T23:59:60Z', BERLIN)).toThrow('is not a real date-time');
    expect(() => parseDateTime('2026-11-30T00:00:00+24:00', BERLIN)).toThrow('has an offset out of range');
    expect(() => parseDateTime('2026-11-30T00:00:00', 'Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
  });

  it('as a zod schema: the Date, or an issue that does not echo the value', () => {
    const schema = dateTimeSchema(NEW_YORK);
    expect(schema.parse('2026-11-30T00:00:00')).toEqual(utc('2026-11-30T05:00:00Z'));
    const refused = schema.safeParse('/tmp/secret');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe(
      'must be an ISO 8601 date-time, e.g. 2026-11-28T22:00:00+01:00 (without an offset: America/New_York time)',
    );
  });
});

describe('formatDateTime', () => {
  const at = utc('2026-11-30T22:15:02.789Z');

  it("shows the zone's wall-clock time with its offset, to the second", () => {
    expect(formatDateTime(at, BERLIN)).toBe('2026-11-30T23:15:02+01:00');
    expect(formatDateTime(utc('2026-07-01T10:00:00Z'), BERLIN)).toBe('2026-07-01T12:00:00+02:00');
    expect(formatDateTime(at, NEW_YORK)).toBe('2026-11-30T17:15:02-05:00');
    expect(formatDateTime(at, 'Asia/Kolkata')).toBe('2026-12-01T03:45:02+05:30');
    expect(formatDateTime(at, 'UTC')).toBe('2026-11-30T22:15:02Z');
  });

  it('to the millisecond when asked: in UTC exactly what toISOString writes', () => {
    expect(formatDateTime(at, BERLIN, { milliseconds: true })).toBe('2026-11-30T23:15:02.789+01:00');
    expect(formatDateTime(at, BERLIN, { milliseconds: true, utc: true })).toBe(at.toISOString());
    expect(formatDateTime(utc('2026-11-30T22:15:02Z'), 'UTC', { milliseconds: true })).toBe('2026-11-30T22:15:02.000Z');
  });

  it('shows UTC with Z when asked', () => {
    expect(formatDateTime(at, BERLIN, { utc: true })).toBe('2026-11-30T22:15:02Z');
    expect(formatDateTime(at, NEW_YORK, { utc: true })).toBe('2026-11-30T22:15:02Z');
  });

  it('round-trips through parseDateTime (to the second), both occurrences of a repeated hour included', () => {
    for (const iso of [
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-03-29T01:30:00Z',
      '2026-11-30T22:15:02Z',
    ]) {
      expect(parseDateTime(formatDateTime(utc(iso), BERLIN), 'UTC'), iso).toEqual(utc(iso));
    }
    expect(formatDateTime(utc('2026-10-25T00:30:00Z'), BERLIN)).toBe('2026-10-25T02:30:00+02:00');
    expect(formatDateTime(utc('2026-10-25T01:30:00Z'), BERLIN)).toBe('2026-10-25T02:30:00+01:00');
  });

  it('refuses an invalid date or zone', () => {
    expect(() => formatDateTime(new Date(Number.NaN), BERLIN)).toThrow(RangeError);
    expect(() => formatDateTime(at, 'Mars/Olympus')).toThrow('unknown time zone');
  });
});
