import { z } from 'zod';
import { badRequest } from './http-errors.js';

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

export const eventCursorSchema = z.object({ o: z.enum(['time', 'score']), k: z.number(), id: z.number().int() });
export const videoCursorSchema = z.object({
  // created_at as Postgres prints it, e.g. 2026-11-29 22:51:43.123456+00
  t: z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/),
  id: z.uuid(),
});
