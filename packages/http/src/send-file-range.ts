import { basename, dirname } from 'node:path';
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';

export interface SendFileOptions {
  /** Content-Type of the file (set whatever its name). */
  contentType: string;
  /** More headers of the file's answers (200, 206, 304), not of the errors. */
  headers?: Record<string, string>;
}

/**
 * Streams a file with HTTP range support, through @fastify/send (what
 * @fastify/static serves with): `Accept-Ranges: bytes`; one range
 * (`bytes=a-b`, `bytes=a-`, `bytes=-n`) answered 206 with Content-Range;
 * an unsatisfiable one 416 with `Content-Range: bytes *\/size` and the API's
 * error body; no or several ranges the whole file, 200; ETag and
 * Last-Modified, and 304 for a matching If-None-Match / If-Modified-Since
 * (If-Range respected). HEAD answers the headers only.
 *
 * Returns false, sending nothing, when there is no file at `path` (the caller
 * says why in its own words); else true, the answer sent (the route returns
 * `reply`). Headers set on `reply` before are kept.
 */
export async function sendFileWithRanges(
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  options: SendFileOptions,
): Promise<boolean> {
  // Served from its folder by name: send reads no path from the request, and takes any file name.
  const result = await send(request.raw, `/${encodeURIComponent(basename(path))}`, {
    root: dirname(path),
    dotfiles: 'allow',
    index: false,
    acceptRanges: true,
    cacheControl: false,
    contentType: false,
    etag: true,
    lastModified: true,
  });
  if (result.type === 'directory') return false;
  if (result.type === 'error') {
    result.stream.destroy();
    const { statusCode } = result;
    if (statusCode === 404) return false;
    if (statusCode === 416) {
      const contentRange = result.headers['Content-Range'] ?? '';
      const size = /\/(\d+)$/.exec(contentRange)?.[1];
      reply
        .code(416)
        .header('content-range', contentRange)
        .header('accept-ranges', 'bytes')
        .send({
          statusCode: 416,
          error: 'Range Not Satisfiable',
          message: `headers.range: ${request.headers.range ?? ''} is not within the file (${size ?? '?'} bytes)`,
          field: 'headers.range',
        });
      return true;
    }
    if (statusCode === 412) throw new HttpError(412, 'a precondition (If-Match, If-Unmodified-Since) failed');
    throw result.metadata.error;
  }
  reply.code(result.statusCode);
  for (const [name, value] of Object.entries({ ...result.headers, ...options.headers })) reply.header(name, value);
  if (result.statusCode !== 304) reply.type(options.contentType);
  reply.send(result.stream);
  return true;
}
