import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { EventClipStore } from '@vad/storage';
import {
  browserPlayable,
  clipSpan,
  DecodeError,
  EVENT_CLIP_POST_ROLL_MS,
  EVENT_CLIP_PRE_ROLL_MS,
  type FfmpegBinaries,
  InvalidVideoError,
  makeEventClip,
  resolveFfmpegBinaries,
} from '@vad/video';
import type { ApiContext } from '../api-context.js';
import { HttpError, notFound, unprocessable } from '../http-errors.js';
import { errorSchema, eventIdParams, videoIdParams } from '../schemas.js';
import { sendFileWithRanges } from '../send-file-range.js';
import type { ZodApp } from '../zod-app.js';

const CACHE_CONTROL = 'private, max-age=86400';

/** Content-Type of a browser-playable source, by its extension. */
const sourceType = (path: string) => (extname(path).toLowerCase() === '.webm' ? 'video/webm' : 'video/mp4');

const isFile = (path: string) =>
  stat(path).then(
    (info) => info.isFile(),
    () => false,
  );

/**
 * Video to watch in a browser: each event's clip (H.264 MP4, made on first
 * request from any source vad reads, cached under the storage root) and the
 * source itself where a browser plays it as it is. Both with HTTP ranges, so
 * a <video> element seeks in them.
 */
export function registerEventMediaRoutes(app: ZodApp, ctx: ApiContext): void {
  const { repos, config, paths } = ctx;
  const clips = new EventClipStore(config.storage.root);
  /** Clips being made by this process, by path: concurrent requests for one clip wait for the same ffmpeg. */
  const making = new Map<string, Promise<unknown>>();
  let binaries: FfmpegBinaries | undefined;

  const makeOnce = (path: string, make: () => Promise<unknown>): Promise<unknown> => {
    let pending = making.get(path);
    if (!pending) {
      pending = make().finally(() => making.delete(path));
      making.set(path, pending);
    }
    return pending;
  };

  app.get(
    '/v1/events/:id/clip',
    {
      schema: {
        tags: ['events'],
        summary: 'A browser-playable MP4 of the event, with some of the video before and after it',
        description:
          `H.264 MP4 (at most 640 px wide, no audio) from ${EVENT_CLIP_PRE_ROLL_MS / 1000} s before the event's ` +
          `start to ${EVENT_CLIP_POST_ROLL_MS / 1000} s after its end, within the video, whatever the source's ` +
          'format. Made on the first request (seconds), then served from storage. Supports Range requests. ' +
          'X-Clip-From-Ms / X-Clip-To-Ms: the span of the video it covers, milliseconds into the video.',
        produces: ['video/mp4'],
        params: eventIdParams,
        response: { 400: errorSchema, 404: errorSchema, 416: errorSchema, 422: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const event = await repos.scoring.getEvent(id);
      if (!event) throw notFound(`no event ${id}`);
      const video = await repos.videos.get(event.videoId);
      if (!video) throw notFound(`no event ${id}`);
      const span = clipSpan(event, video.durationMs);
      const path = clips.absolutePath(video.id, event.scoringRunId, event.id);
      // A clip made before the source went (retention) is still served.
      if (!(await isFile(path))) {
        if (video.sourceRemovedAt || !(await isFile(video.sourceUri))) {
          throw notFound(`the source of event ${id} is gone from storage (retention)`);
        }
        binaries ??= resolveFfmpegBinaries(config.ffmpeg);
        const ffmpeg = binaries;
        await makeOnce(path, () => makeEventClip(video.sourceUri, path, span, ffmpeg)).catch((error: unknown) => {
          if (error instanceof DecodeError || error instanceof InvalidVideoError) {
            request.log.warn({ err: error, eventId: id, videoId: video.id }, 'event clip failed');
            throw unprocessable(paths.redact(`event ${id}: ${error.message}`));
          }
          throw error;
        });
      }
      const headers = {
        'cache-control': CACHE_CONTROL,
        'x-clip-from-ms': String(span.fromMs),
        'x-clip-to-ms': String(span.toMs),
      };
      // Gone since (a rescore replaced the run, or retention): as if it had never been made.
      if (!(await sendFileWithRanges(request, reply, path, { contentType: 'video/mp4', headers }))) {
        throw notFound(`the clip of event ${id} is gone from storage`);
      }
      return reply;
    },
  );

  app.get(
    '/v1/videos/:id/source',
    {
      schema: {
        tags: ['videos'],
        summary: 'The source video itself, where a browser plays it (MP4/MOV/WebM with H.264, VP8, VP9 or AV1)',
        description:
          "Supports Range requests. Other sources (HEVC, Matroska, AVI, MPEG-TS…) are refused, 415: watch their events' " +
          "clips (GET /v1/events/{id}/clip). The video's `sourceUrl` says which.",
        produces: ['video/mp4', 'video/webm'],
        params: videoIdParams,
        response: { 400: errorSchema, 404: errorSchema, 415: errorSchema, 416: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const video = await repos.videos.get(id);
      if (!video) throw notFound(`no video ${id}`);
      if (!browserPlayable({ container: video.sourceUri, codec: video.codec })) {
        const container = extname(video.sourceUri).slice(1).toLowerCase() || 'a file without extension';
        throw new HttpError(
          415,
          `the source is ${video.codec ?? 'of an unknown codec'} in ${container}: browsers cannot play it; ` +
            "play the events' clips (/v1/events/:id/clip)",
        );
      }
      const gone = () => notFound(`the source of video ${id} is gone from storage (retention)`);
      if (video.sourceRemovedAt) throw gone();
      const options = { contentType: sourceType(video.sourceUri), headers: { 'cache-control': CACHE_CONTROL } };
      if (!(await sendFileWithRanges(request, reply, video.sourceUri, options))) {
        throw gone();
      }
      return reply;
    },
  );
}
