import { ConflictError, videoProgress } from '@vad/operations';
import type { ApiContext } from '../api-context.js';
import { decodeCursor, nextCursor, videoCursorSchema } from '../cursor.js';
import { conflict, notFound } from '../http-errors.js';
import { presentEvent, presentVideo } from '../presenters.js';
import {
  errorSchema,
  requestSchemas,
  rescoreBodySchema,
  rescoreResponseSchema,
  scoresQuery,
  scoresSchema,
  videoDetailSchema,
  videoIdParams,
  videoListSchema,
} from '../schemas.js';
import type { ZodApp } from '../zod-app.js';

/** Reading videos and their scores, and asking for a rescore. (Uploads: upload.ts.) */
export function registerVideoRoutes(app: ZodApp, ctx: ApiContext): void {
  const { repos, queues, control } = ctx;
  // Times without an offset are VAD_TIMEZONE's.
  const { videoListQuery } = requestSchemas(ctx.config.schedule.timeZone);

  app.get(
    '/v1/videos',
    {
      schema: {
        tags: ['videos'],
        summary: 'List videos, newest submitted first',
        querystring: videoListQuery,
        response: { 200: videoListSchema, 400: errorSchema },
      },
    },
    async (request) => {
      const { cursor, ...query } = request.query;
      const after = cursor ? decodeCursor(cursor, videoCursorSchema) : undefined;
      const rows = await repos.videos.list({
        ...query,
        after: after ? { createdAtKey: after.t, id: after.id } : undefined,
      });
      return {
        items: rows.map((row) => presentVideo(row.video, row.camera, ctx.paths)),
        nextCursor: nextCursor(rows, query.limit, (last) => ({ t: last.createdAtKey, id: last.video.id })),
      };
    },
  );

  app.get(
    '/v1/videos/:id',
    {
      // Progress is read from the queues.
      config: { needsRedis: true },
      schema: {
        tags: ['videos'],
        summary: 'A video: status, metadata, progress per stage, error if it failed',
        params: videoIdParams,
        response: { 200: videoDetailSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const row = await repos.videos.getWithCamera(request.params.id);
      if (!row) throw notFound(`no video ${request.params.id}`);
      const { held, ...progress } = await videoProgress(queues, row.video);
      return {
        ...presentVideo(row.video, row.camera, ctx.paths),
        progress: { ...progress, ...(held ? { held: { ...held, until: held.until.toISOString() } } : {}) },
      };
    },
  );

  app.get(
    '/v1/videos/:id/scores',
    {
      schema: {
        tags: ['videos'],
        summary: "The clip timeline and events of the video's current (or a given) scoring run",
        params: videoIdParams,
        querystring: scoresQuery,
        response: { 200: scoresSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const row = await repos.videos.getWithCamera(id);
      if (!row) throw notFound(`no video ${id}`);
      const { video, camera } = row;
      const runs = await repos.scoring.runsOf(id);
      const runId = request.query.run ?? video.currentRunId;
      const run = runs.find((r) => r.id === runId);
      if (!run) {
        throw notFound(
          request.query.run
            ? `video ${id} has no scoring run ${request.query.run}`
            : `video ${id} is ${video.status}: no scores yet`,
        );
      }
      const [clips, events] = await Promise.all([repos.scoring.clipsOf(run.id), repos.scoring.eventsOf(run.id)]);
      const present = (r: (typeof runs)[number]) => ({
        id: r.id,
        model: r.model,
        promptSet: r.promptSet,
        aggregator: r.aggregator,
        params: r.params,
        createdAt: r.createdAt.toISOString(),
        current: r.id === video.currentRunId,
      });
      return {
        videoId: id,
        run: present(run),
        runs: runs.map((r) => {
          const { id: runIdOf, promptSet, aggregator, createdAt, current } = present(r);
          return { id: runIdOf, promptSet, aggregator, createdAt, current };
        }),
        clips: clips.map((c) => ({
          clipIndex: c.clipIndex,
          startMs: c.startMs,
          endMs: c.endMs,
          validFrames: c.validFrames,
          anomalyScore: c.anomalyScore,
          label: c.label,
          probabilities: c.probabilities,
        })),
        events: events.map((e) => presentEvent({ ...e, camera })),
      };
    },
  );

  app.post(
    '/v1/videos/:id/rescore',
    {
      config: { access: 'admin', needsRedis: true },
      schema: {
        tags: ['videos'],
        summary: 'Score a finished video again from its stored embeddings, optionally with other prompts or settings',
        params: videoIdParams,
        body: rescoreBodySchema,
        response: { 202: rescoreResponseSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!(await repos.videos.get(id))) throw notFound(`no video ${id}`);
      try {
        const jobId = await control.rescore(id, request.body);
        return reply.code(202).send({ videoId: id, jobId });
      } catch (error) {
        if (error instanceof ConflictError) throw conflict(error.message);
        throw error;
      }
    },
  );
}
