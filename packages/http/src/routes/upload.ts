import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SubmitError, type SubmitInput, type SubmitResult } from '@vad/operations';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { badRequest, HttpError, unprocessable } from '../http-errors.js';
import { errorSchema, registerBodySchema, submitResponseSchema, uploadFieldsSchema } from '../schemas.js';
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
  if (!inside(path, root)) throw badRequest(`${field}: must be under the storage root ${root}`, field);
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

/**
 * Streams the multipart request's `file` part to the uploads folder (never
 * whole in memory) and collects the other fields. Too large: 413, partial
 * file removed.
 */
async function receiveUpload(request: FastifyRequest, uploadsDir: string, maxBytes: number): Promise<Upload> {
  const fields: Record<string, string> = {};
  let path: string | undefined;
  const temporary = join(uploadsDir, `${randomUUID()}.part`);
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 20 } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw badRequest('the video goes in a multipart field named "file"', 'file');
        await mkdir(uploadsDir, { recursive: true });
        await pipeline(part.file, createWriteStream(temporary));
        path = join(uploadsDir, `${randomUUID()}${safeExtension(part.filename)}`);
        await rename(temporary, path);
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
  } catch (error) {
    await rm(temporary, { force: true });
    if (path) await rm(path, { force: true });
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new HttpError(413, `the upload is larger than the limit of ${maxBytes} bytes (VAD_UPLOAD_MAX_MB)`, 'file');
    }
    if (code === 'FST_FILES_LIMIT_REACHED') throw badRequest('one file per upload', 'file');
    throw error;
  }
  if (!path) throw badRequest('no file: send the video as a multipart field named "file"', 'file');
  return { path, fields };
}

/** POST /v1/videos: a multipart upload, or JSON naming a file already under the storage root. */
export function registerUploadRoute(app: ZodApp, ctx: ApiContext): void {
  const { config, submit } = ctx;
  const uploadsDir = join(config.storage.root, 'uploads', 'incoming');

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
      // Failed after the video row was written (e.g. Redis down while queueing): the row needs its
      // file, and submitting again re-queues it. Otherwise nothing refers to the upload.
      if (uploaded) {
        const size = await stat(input.path).then(
          (s) => s.size,
          () => -1,
        );
        if (!(await ctx.repos.videos.findBySource(input.path, size))) await rm(input.path, { force: true });
      }
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
          'multipart/form-data: `file` (the video, streamed to storage), optional `camera`, `recordedAt` (ISO 8601), `priority` (1 = most urgent). ' +
          'application/json: `{ "uri": "path under the storage root", "camera"?, "recordedAt"?, "priority"? }`. ' +
          '201 for a new video, 200 with the existing id for the same content submitted before.',
        consumes: ['multipart/form-data', 'application/json'],
        response: {
          200: submitResponseSchema,
          201: submitResponseSchema,
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
        },
      },
    },
    async (request, reply) => {
      let input: SubmitInput;
      let uploaded = false;
      if (request.isMultipart()) {
        const upload = await receiveUpload(request, uploadsDir, config.api.uploadMaxBytes);
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
