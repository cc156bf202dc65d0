import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SubmitError, type SubmitInput, type SubmitResult } from '@vad/operations';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import type { AppOptions } from '../app.js';
import { badRequest, HttpError, unprocessable } from '../http-errors.js';
import { isQueueFailure, NotQueuedError, unqueuedVideoId } from '../outage.js';
import { DATE_TIME_RULE, errorSchema, requestSchemas, submitResponseSchema } from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

/** The first problem of a zod result as a 400 naming the field. */
function invalid(error: z.ZodError, context: string): HttpError {
  const issue = error.issues[0];
  const field = [context, ...(issue?.path ?? []).map(String)].join('.');
  return badRequest(`${field}: ${issue?.message ?? 'invalid'}`, field);
}

/** A path under the storage root, or a 400: no `..`, nothing outside the root (symlinks included). */
async function resolveUnderRoot(root: string, uri: string): Promise<string> {
  const field = 'body.uri';
  if (uri.split(/[\\/]/).includes('..')) throw badRequest(`${field}: must not contain ".."`, field);
  const path = isAbsolute(uri) ? resolve(uri) : resolve(root, uri);
  const inside = (p: string, r: string) => p.startsWith(r + sep) && !relative(r, p).startsWith('..');
  if (!inside(path, root)) throw badRequest(`${field}: must be under the storage root`, field);
  const real = await realpath(path).catch(() => undefined);
  if (real && !inside(real, await realpath(root))) {
    throw badRequest(`${field}: resolves (through a link) outside the storage root`, field);
  }
  return path;
}

/** The uploaded file's extension if it looks like one (ffprobe likes a hint); never a path. */
function safeExtension(filename: string | undefined): string {
  const ext = extname(filename ?? '').toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '.bin';
}

interface Upload {
  path: string;
  fields: Record<string, string>;
}

/** An error of the file system (an errno code: ENOSPC, EIO, EACCES…), not of the request. */
const isFileSystemError = (error: unknown) => /^E[A-Z0-9]+$/.test(String((error as { code?: unknown }).code));

/** Writing the upload to storage failed (the disk, not the client): 507 when it is full, else 500. */
function storageFailure(error: unknown): HttpError {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HttpError(507, 'no space left in storage for the upload: nothing was kept; try again later', 'file');
  }
  return new HttpError(500, `the upload could not be written to storage (${String(code ?? 'error')})`, 'file');
}

/**
 * What was wrong with a multipart body, in the API's words (the parser's
 * own messages are not passed on): a 4xx naming the body or the field.
 */
function multipartProblem(error: unknown): HttpError {
  const { code, message = '' } = error as { code?: string; message?: string };
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new HttpError(413, '', 'file'); // message filled in by the caller, which knows the limit
    case 'FST_FILES_LIMIT':
      return badRequest('one file per upload', 'file');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return badRequest('body: too many fields (camera, recordedAt, priority, urgent and the file)', 'body');
    case 'FST_PROTO_VIOLATION':
      return badRequest('body: a field name that is not allowed', 'body');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return badRequest('body: a field declared as JSON is not valid JSON', 'body');
    case 'FST_MP_PREMATURE_CLOSE':
    case 'ECONNRESET':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return badRequest('body: the request ended before the multipart body did', 'body');
  }
  if (/boundary/i.test(message)) {
    return badRequest('body: multipart/form-data needs a boundary in its Content-Type, used by the body', 'body');
  }
  if (/unexpected end|terminated early|part terminated/i.test(message)) {
    return badRequest('body: the multipart body ends before its closing boundary', 'body');
  }
  return badRequest('body: not a well-formed multipart/form-data body', 'body');
}

/** Errors of the parser are the client's; HttpErrors are ours; anything else is not a multipart problem. */
function isParserError(error: unknown): boolean {
  if (error instanceof HttpError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('FST_')) return true;
  // The client went away mid-body (nobody reads the answer, but it is not the server's fault).
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return true;
  // busboy throws plain Errors (no code) for malformed bodies.
  return error instanceof Error && code === undefined;
}

/**
 * Streams the multipart request's `file` part to the uploads folder (never
 * whole in memory) and collects the other fields. Too large: 413; a body that
 * is not well-formed multipart: 400; a failed write (disk full, I/O error):
 * 507 or 500. The partial file is removed in every case.
 */
async function receiveUpload(
  request: FastifyRequest,
  uploadsDir: string,
  maxBytes: number,
  openFile: (path: string) => Writable,
): Promise<Upload> {
  const fields: Record<string, string> = {};
  let path: string | undefined;
  const temporary = join(uploadsDir, `${randomUUID()}.part`);
  let writeError: unknown;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 20 } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw badRequest('the video goes in a multipart field named "file"', 'file');
        if (path) throw badRequest('one file per upload', 'file');
        await mkdir(uploadsDir, { recursive: true }).catch((error: unknown) => {
          writeError = error;
          throw error;
        });
        const sink = openFile(temporary);
        // The sink's own failures (ENOSPC, EIO…), not the body's: pipeline hands those on to the sink too,
        // after the body's stream has reported them.
        let bodyError: unknown;
        part.file.once('error', (error) => {
          bodyError ??= error;
        });
        sink.once('error', (error) => {
          if (error !== bodyError && isFileSystemError(error)) writeError ??= error;
        });
        await pipeline(part.file, sink);
        path = join(uploadsDir, `${randomUUID()}${safeExtension(part.filename)}`);
        await rename(temporary, path).catch((error: unknown) => {
          writeError = error;
          throw error;
        });
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    await rm(temporary, { force: true });
    if (path) await rm(path, { force: true });
    if (writeError) {
      request.log.error({ err: writeError }, 'upload not written to storage');
      throw storageFailure(writeError);
    }
    if (isParserError(error)) {
      request.log.info({ err: error }, 'malformed multipart upload');
      const problem = multipartProblem(error);
      if (problem.statusCode === 413) {
        throw new HttpError(
          413,
          `the upload is larger than the limit of ${maxBytes} bytes (VAD_UPLOAD_MAX_MB)`,
          'file',
        );
      }
      throw problem;
    }
    throw error;
  }
  if (!path) throw badRequest('no file: send the video as a multipart field named "file"', 'file');
  return { path, fields };
}

/** The 503 of a submit whose video was recorded but not queued: the error shape plus the id. */
const notQueuedSchema = errorSchema
  .extend({
    videoId: z.uuid().optional().describe('The recorded video (present when it was recorded)'),
    status: z.literal('queued').optional(),
    queued: z.literal(false).optional(),
  })
  .meta({ id: 'NotQueued' });

/** POST /v1/videos: a multipart upload, or JSON naming a file already under the storage root. */
export function registerUploadRoute(app: ZodApp, ctx: ApiContext, options: AppOptions = {}): void {
  const { config, submit } = ctx;
  // recordedAt without an offset is VAD_TIMEZONE's.
  const { uploadFieldsSchema, registerBodySchema } = requestSchemas(config.schedule.timeZone);
  const uploadsDir = join(config.storage.root, 'uploads', 'incoming');
  const openFile = options.openUploadFile ?? ((path: string) => createWriteStream(path));

  /**
   * The row a failed submit left behind (written before its flow could be
   * queued), if any; `answered` false when the database could not be asked.
   */
  const recordedRow = async (path: string) => {
    const size = await stat(path).then(
      (info) => info.size,
      () => undefined,
    );
    if (size === undefined) return { row: undefined, answered: true };
    return ctx.repos.videos.findBySource(resolve(path), size).then(
      (row) => ({ row, answered: true }),
      () => ({ row: undefined, answered: false }),
    );
  };

  const submitOrExplain = async (input: SubmitInput, uploaded: boolean): Promise<SubmitResult> => {
    try {
      const result = await submit.submit(input);
      // A duplicate keeps its first file: the copy just uploaded is not needed.
      if (uploaded && !result.created) await rm(input.path, { force: true });
      return result;
    } catch (error) {
      if (error instanceof SubmitError) {
        if (uploaded) await rm(input.path, { force: true });
        throw unprocessable(error.reason, uploaded ? 'file' : 'body.uri');
      }
      // Failed after the video row was written (Redis down while queueing): the row keeps its file and
      // its status `queued`; the reconciler (or the same submit again) queues it once Redis is back.
      const reported = unqueuedVideoId(error);
      if (reported) throw Object.assign(new NotQueuedError(reported), { cause: error });
      const { row, answered } = await recordedRow(input.path);
      if (row?.status === 'queued' && isQueueFailure(error, ctx.queueConnection)) {
        throw Object.assign(new NotQueuedError(row.id), { cause: error });
      }
      // Otherwise nothing refers to an upload, unless the database could not be asked (then it stays).
      if (uploaded && answered && !row) await rm(input.path, { force: true });
      throw error;
    }
  };

  app.post(
    '/v1/videos',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['videos'],
        summary: 'Submit a video: multipart upload (field "file", plus camera, recordedAt, priority) or JSON {uri, …}',
        description:
          'multipart/form-data: `file` (the video, streamed to storage), optional `camera`, `recordedAt`, `priority` (1 = most urgent). ' +
          'application/json: `{ "uri": "path under the storage root", "camera"?, "recordedAt"?, "priority"? }`. ' +
          `\`recordedAt\`: ${DATE_TIME_RULE}. ` +
          '201 for a new video, 200 with the existing id for the same content submitted before. ' +
          '503 with Retry-After while Redis is down: with `videoId` when the video was recorded (it stays queued and is ' +
          'queued when Redis is back), without when nothing was stored.',
        consumes: ['multipart/form-data', 'application/json'],
        response: {
          200: submitResponseSchema,
          201: submitResponseSchema,
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
          503: notQueuedSchema,
          507: errorSchema,
        },
      },
    },
    async (request, reply) => {
      let input: SubmitInput;
      let uploaded = false;
      if (request.isMultipart()) {
        const upload = await receiveUpload(request, uploadsDir, config.api.uploadMaxBytes, openFile);
        uploaded = true;
        const fields = uploadFieldsSchema.safeParse(upload.fields);
        if (!fields.success) {
          await rm(upload.path, { force: true });
          throw invalid(fields.error, 'body');
        }
        input = { path: upload.path, ...fields.data };
      } else {
        const body = registerBodySchema.safeParse(request.body ?? {});
        if (!body.success) throw invalid(body.error, 'body');
        const { uri, ...rest } = body.data;
        input = { path: await resolveUnderRoot(config.storage.root, uri), ...rest };
      }
      const result = await submitOrExplain(input, uploaded);
      return reply.code(result.created ? 201 : 200).send({
        videoId: result.videoId,
        created: result.created,
        status: result.status,
        durationMs: result.durationMs,
      });
    },
  );
}
