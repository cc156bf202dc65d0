import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, eventCursorSchema, nextCursor } from '../cursor.js';
import { badRequest, notFound } from '../http-errors.js';
import { presentEvent, presentReview } from '../presenters.js';
import {
  errorSchema,
  eventIdParams,
  eventListSchema,
  eventReviewBodySchema,
  eventReviewRemovedSchema,
  eventReviewSchema,
  eventSchema,
  requestSchemas,
} from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

/** Anomaly events across videos (each video's current scoring run), with their thumbnails and operators' reviews. */
export function registerEventRoutes(app: ZodApp, ctx: ApiContext): void {
  const { repos, config } = ctx;
  // Times without an offset are VAD_TIMEZONE's.
  const { eventListQuery } = requestSchemas(config.schedule.timeZone);

  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Events, newest first or highest score first, filtered (also by review verdict), in keyset pages',
        querystring: eventListQuery,
        response: { 200: eventListSchema, 400: errorSchema },
      },
    },
    async (request) => {
      const { cursor, caption, ...query } = request.query;
      const after = cursor ? decodeCursor(cursor, eventCursorSchema) : undefined;
      if (after && after.o !== query.order) throw badRequest('cursor: belongs to another order', 'cursor');
      const rows = await repos.scoring.findEvents({
        ...query,
        captionText: caption,
        after: after && { key: after.k, id: after.id },
      });
      return {
        items: rows.map(presentEvent),
        nextCursor: nextCursor(rows, query.limit, (last) => ({
          o: query.order,
          k: query.order === 'time' ? (last.startAt?.getTime() ?? 0) : last.peakScore,
          id: last.id,
        })),
      };
    },
  );

  app.get(
    '/v1/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event',
        params: eventIdParams,
        response: { 200: eventSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const event = await repos.scoring.getEvent(request.params.id);
      if (!event) throw notFound(`no event ${request.params.id}`);
      return presentEvent(event);
    },
  );

  app.get(
    '/v1/events/:id/thumbnail',
    {
      schema: {
        tags: ['events'],
        summary: "JPEG of the event's peak frame",
        produces: ['image/jpeg'],
        params: eventIdParams,
      },
    },
    async (request, reply) => {
      const event = await repos.scoring.getEvent(request.params.id);
      if (!event) throw notFound(`no event ${request.params.id}`);
      if (!event.thumbnailPath) throw notFound(`event ${event.id} has no thumbnail`);
      const path = join(config.storage.root, event.thumbnailPath);
      const info = await stat(path).catch(() => undefined);
      if (!info) throw notFound(`the thumbnail of event ${event.id} is gone from storage`);
      return reply
        .type('image/jpeg')
        .header('content-length', info.size)
        .header('cache-control', 'private, max-age=86400')
        .send(createReadStream(path));
    },
  );

  app.put(
    '/v1/events/:id/review',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['events'],
        summary: "Review an event: a true alarm or a false one (replaces the event's earlier review)",
        description:
          "Stored with who (the token's name) and when. The review keeps the event's video and time span: " +
          'after a rescore it moves to the new event overlapping that span most. False alarms feed the ' +
          "camera's normal memory; true ones become training labels.",
        params: eventIdParams,
        body: eventReviewBodySchema,
        response: { 200: eventReviewSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { verdict, note } = request.body;
      const review = await repos.reviews.review(request.params.id, {
        verdict,
        note,
        reviewedBy: request.token?.name ?? 'anonymous',
      });
      if (!review) throw notFound(`no event ${request.params.id}`);
      return presentReview(review);
    },
  );

  app.delete(
    '/v1/events/:id/review',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['events'],
        summary: "Remove an event's review",
        params: eventIdParams,
        response: { 200: eventReviewRemovedSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await repos.scoring.getEvent(id))) throw notFound(`no event ${id}`);
      return { eventId: id, removed: await repos.reviews.remove(id) };
    },
  );
}
