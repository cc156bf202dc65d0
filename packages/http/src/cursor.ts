import { z } from 'zod';
import { badRequest } from './http-errors.js';
import { isStorableReal } from './schemas.js';

/**
 * Opaque page cursors: the keyset of a page's last row, base64url JSON. A
 * client passes back `nextCursor` as `cursor` and never builds one itself.
 */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('cursor: not a cursor this API issued (pass back nextCursor unchanged)', 'cursor');
  }
}

/** The cursor of the page after `rows`: null when the page was not full (nothing follows). */
export function nextCursor<T>(rows: readonly T[], limit: number, keyset: (last: T) => unknown): string | null {
  const last = rows.length === limit ? rows.at(-1) : undefined;
  return last === undefined ? null : encodeCursor(keyset(last));
}

/** Keys of issued cursors are row values: times of years 1 to 9999 (what PostgreSQL reads back from an ISO string). */
const FIRST_KEY_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_KEY_MS = Date.parse('9999-12-31T23:59:59.999Z');

export const eventCursorSchema = z
  .object({
    o: z.enum(['time', 'score']),
    // A start time in ms (time order) or a peak score (a PostgreSQL real): finite and in range, never 1e308.
    k: z.number(),
    id: z.number().int().nonnegative(),
  })
  .refine(
    (c) => (c.o === 'time' ? Number.isInteger(c.k) && c.k >= FIRST_KEY_MS && c.k <= LAST_KEY_MS : isStorableReal(c.k)),
    {
      path: ['k'],
    },
  );

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** created_at as PostgreSQL prints it, e.g. 2026-11-29 22:51:43.123456+00 (or +05:30): a real instant, years 1–9999. */
const POSTGRES_TIME = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-])(\d\d)(?::(\d\d))?$/;
function isPostgresTime(text: string): boolean {
  const m = POSTGRES_TIME.exec(text);
  if (!m) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map(Number);
  const [offsetHours = 0, offsetMinutes = 0] = [Number(m[9]), Number(m[10] ?? 0)];
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 15 &&
    offsetMinutes <= 59
  );
}

export const videoCursorSchema = z.object({
  t: z.string().refine(isPostgresTime),
  id: z.uuid(),
});
