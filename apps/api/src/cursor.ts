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

export const eventCursorSchema = z.object({ o: z.enum(['time', 'score']), k: z.number(), id: z.number().int() });
export const videoCursorSchema = z.object({ t: z.number(), id: z.uuid() });
