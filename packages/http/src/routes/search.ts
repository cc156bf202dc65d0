import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SearchError } from '@vad/search';
import type { ApiContext } from '../api-context.js';
import { badRequest, HttpError, notFound } from '../http-errors.js';
import { presentSearchResult } from '../presenters.js';
import { errorSchema, frameParams, requestSchemas, searchResultSchema } from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

const statusOf: Record<SearchError['kind'], number> = { 'bad-input': 400, 'not-found': 404, gone: 410 };

/** Search over stored frame embeddings (read scope), and thumbnails of any sampled frame, made on demand. */
export function registerSearchRoutes(app: ZodApp, ctx: ApiContext): void {
  const { config, repos } = ctx;
  const { searchQuery } = requestSchemas(config.schedule.timeZone);

  app.get(
    '/v1/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Moments that match a text, or look like an event, ranked by score',
        description:
          "The text goes through the model's own tokenizer and text encoder (with the scoring's prompt templates) " +
          'and is compared by cosine with every stored frame embedding in scope (past VAD_SEARCH_EXACT_MAX_FRAMES, ' +
          'with those a nearest-neighbour index finds); adjacent matching frames of a video are one moment. ' +
          "CLIP cosines bunch together: relativeScore says how far above its camera's frames a moment is. " +
          '400: bad text (empty, too long for the model); 404: no such event or camera; ' +
          "410: the event's frame embeddings were removed by retention.",
        querystring: searchQuery,
        response: { 200: searchResultSchema, 400: errorSchema, 404: errorSchema, 410: errorSchema },
      },
    },
    async (request) => {
      const { q, ...query } = request.query;
      try {
        return presentSearchResult(
          await ctx.search().service.search({ ...query, ...(q !== undefined ? { text: q } : {}) }),
        );
      } catch (error) {
        if (error instanceof SearchError) {
          const field = error.field === 'text' ? 'q' : error.field;
          throw new HttpError(statusOf[error.kind], error.message, field);
        }
        throw error;
      }
    },
  );

  app.get(
    '/v1/videos/:id/frames/:frame/thumbnail',
    {
      schema: {
        tags: ['search'],
        summary: 'JPEG of one sampled frame of a video (made from the source on first request, then kept)',
        produces: ['image/jpeg'],
        params: frameParams,
      },
    },
    async (request, reply) => {
      const { id, frame } = request.params;
      const video = await repos.videos.get(id);
      if (!video) throw notFound(`no video ${id}`);
      const ptsMs = await repos.frameEmbeddings.ptsOf(id, video.model, frame);
      if (ptsMs === undefined)
        throw notFound(`video ${id} has no sampled frame ${frame} (or its embeddings were removed)`);
      const relative = await ctx
        .search()
        .thumbnails.ensure(
          { id, sourceUri: video.sourceUri, sourceRemoved: video.sourceRemovedAt !== null },
          frame,
          ptsMs,
        );
      if (!relative) {
        throw video.sourceRemovedAt
          ? new HttpError(410, `the source of video ${id} was removed by retention: no thumbnail can be made`)
          : badRequest(`frame ${frame} of video ${id} could not be decoded`);
      }
      const path = join(config.storage.root, relative);
      const info = await stat(path);
      return reply
        .type('image/jpeg')
        .header('content-length', info.size)
        .header('cache-control', 'private, max-age=86400')
        .send(createReadStream(path));
    },
  );
}
