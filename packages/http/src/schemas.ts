import { REVIEW_VERDICTS, VIDEO_STATUSES } from '@vad/db';
import { QUEUE_NAMES, scoringOverridesSchema } from '@vad/queue';
import { dateTimeSchema, MAX_PRIORITY } from '@vad/schedule';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, SEARCH_TEXT_MAX_CHARS } from '@vad/search';
import { z } from 'zod';

/** Request and response shapes of the API: validation, typing and the OpenAPI document all come from these. */

/** A string PostgreSQL can store as text: no NUL (U+0000), well-formed UTF-16 (no lone surrogate). */
export function storableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000)';
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
    return 'must be valid Unicode (no lone surrogate)';
  }
  return undefined;
}

/**
 * Every string field that reaches SQL (names, labels, paths, cursors): at most
 * `max` characters, storable text. `trim` first for names typed by people.
 */
export function sqlText(max: number, options: { trim?: boolean } = {}) {
  const base = options.trim ? z.string().trim() : z.string();
  return base
    .min(1)
    .max(max)
    .superRefine((value, ctx) => {
      const problem = storableText(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** Every string anywhere in a JSON value (object keys included) is storable text; else an issue at its path. */
function checkStorableDeep(value: unknown, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (typeof value === 'string') {
    const problem = storableText(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkStorableDeep(item, ctx, [...path, i]);
    });
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const problem = storableText(key);
      if (problem) ctx.addIssue({ code: 'custom', message: `key: ${problem}`, path });
      checkStorableDeep(item, ctx, [...path, key]);
    }
  }
}

/**
 * A number PostgreSQL takes as a `real` (float4): 0, or a magnitude from its
 * smallest subnormal to its largest value. 5e-324 or 1e39 are out of range there.
 */
export const isStorableReal = (value: number) =>
  value === 0 || (Math.abs(value) >= 1.5e-45 && Math.abs(value) <= 3.4e38);

/** Dates the API takes: years 1970 to 9999 (PostgreSQL and Date#toISOString agree on these). */
export const MIN_DATE_MS = Date.UTC(1970, 0, 1);
export const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** How the API reads date-times, for descriptions: the same rule as the CLI's. */
export const DATE_TIME_RULE =
  'ISO 8601, e.g. 2026-11-28T22:00:00+01:00 or 2026-11-28T21:00:00Z; without an offset (2026-11-28T22:00, or a date ' +
  "2026-11-28 for midnight) it is wall-clock time in the API's VAD_TIMEZONE";

/**
 * A date-time the API takes (query values, body fields): with an offset as
 * is, without one wall-clock time in `timeZone` (VAD_TIMEZONE; DST as
 * parseDateTime says); years 1970 to 9999.
 */
function isoDateTime(timeZone: string) {
  return dateTimeSchema(
    timeZone,
    `must be an ISO 8601 date-time, e.g. 2026-11-28T22:00:00Z (without an offset: ${timeZone} time)`,
  ).refine((date) => date.getTime() >= MIN_DATE_MS && date.getTime() <= MAX_DATE_MS, {
    message: 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z',
  });
}

/** A page cursor as passed back: opaque, bounded (see cursor.ts for what it holds). */
const cursorParam = z.string().min(1).max(512);

export const errorSchema = z
  .object({
    statusCode: z.number().int(),
    error: z.string(),
    message: z.string(),
    field: z.string().optional(),
  })
  .meta({ id: 'Error' });

export const videoIdParams = z.object({ id: z.uuid({ message: 'must be a video id (UUID)' }) });
export const eventIdParams = z.object({ id: z.coerce.number().int().positive({ message: 'must be an event id' }) });
export const queueParams = z.object({ name: z.enum(QUEUE_NAMES) });

/** Camera names: as people type them, at most 200 characters. */
export const cameraName = sqlText(200, { trim: true });
export const cameraParams = z.object({ name: cameraName });

const uploadFields = (timeZone: string) =>
  z.object({
    camera: cameraName.optional(),
    recordedAt: isoDateTime(timeZone).optional().describe(`When the recording started: ${DATE_TIME_RULE}`),
    priority: z.coerce.number().int().min(1).max(MAX_PRIORITY).optional(),
    urgent: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
      .optional()
      .describe('Process at once, outside the processing window too'),
  });

export const submitResponseSchema = z
  .object({
    videoId: z.uuid(),
    created: z.boolean().describe('False when the same content under the same pipeline config was submitted before'),
    status: z.enum(VIDEO_STATUSES),
    durationMs: z.number(),
  })
  .meta({ id: 'SubmitResult' });

const stageSchema = z.object({ state: z.string(), percent: z.number() });

export const videoSchema = z
  .object({
    id: z.uuid(),
    camera: z.string().nullable(),
    status: z.enum(VIDEO_STATUSES),
    error: z.string().nullable(),
    sourceUri: z.string(),
    sha256: z.string(),
    bytes: z.number(),
    durationMs: z.number().nullable(),
    fps: z.number().nullable(),
    width: z.number().nullable(),
    height: z.number().nullable(),
    codec: z.string().nullable(),
    model: z.string(),
    recordedAt: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    currentRunId: z.uuid().nullable(),
    priority: z.number().nullable().describe('BullMQ priority its jobs run at (1 = most urgent)'),
    urgent: z.boolean(),
    playable: z
      .boolean()
      .describe('A browser plays the source as it is (MP4/MOV/WebM with H.264, VP8, VP9 or AV1); else watch the clips'),
    sourceUrl: z
      .string()
      .nullable()
      .describe('URL of the source to play (Range requests); null when not playable or gone from storage'),
  })
  .meta({ id: 'Video' });

export const videoDetailSchema = videoSchema
  .extend({
    progress: z.object({
      ingest: stageSchema.extend({
        framesDecoded: z.number(),
        segmentsWritten: z.number(),
        waiting: z
          .string()
          .optional()
          .describe('Why decoding is paused, e.g. "storage full: 1.2 GiB free on the storage root"'),
      }),
      embed: z.object({ percent: z.number(), segmentsEmbedded: z.number(), segmentsWritten: z.number() }),
      aggregate: stageSchema,
      held: z
        .object({ until: z.string(), window: z.string() })
        .optional()
        .describe('Set while the processing window holds the video: when it is released, and by which window'),
    }),
  })
  .meta({ id: 'VideoDetail' });

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const videoListQuery = (timeZone: string) =>
  z.object({
    camera: cameraName.optional(),
    status: z.enum(VIDEO_STATUSES).optional(),
    since: isoDateTime(timeZone).optional().describe(`Recorded at or after: ${DATE_TIME_RULE}`),
    limit: limit(500, 50),
    cursor: cursorParam.optional(),
  });

export const videoListSchema = z.object({ items: z.array(videoSchema), nextCursor: z.string().nullable() });

export const scoresQuery = z.object({
  run: z.uuid().optional().describe('A scoring run of the video; default: its current run'),
});

export const runSchema = z
  .object({
    id: z.uuid(),
    model: z.string(),
    promptSet: z.string(),
    aggregator: z.string(),
    params: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    current: z.boolean(),
  })
  .meta({ id: 'ScoringRun' });

export const clipSchema = z
  .object({
    clipIndex: z.number().int(),
    startMs: z.number(),
    endMs: z.number(),
    validFrames: z.number().int(),
    anomalyScore: z.number(),
    label: z.string(),
    probabilities: z.record(z.string(), z.number()),
  })
  .meta({ id: 'ClipScore' });

const verdictSchema = z
  .enum(REVIEW_VERDICTS)
  .describe("The operator's verdict: 'true' a real incident (a training label), 'false' a false alarm");

/** An operator's review as shown with its event. */
export const eventReviewSummarySchema = z
  .object({
    verdict: verdictSchema,
    note: z.string().nullable().describe("The operator's note, if any"),
    reviewedBy: z.string().describe("Who reviewed it: the API token's name, or the CLI user's"),
    reviewedAt: z.string().describe('When it was reviewed (or last reviewed again), ISO 8601'),
  })
  .meta({ id: 'EventReviewSummary' });

export const eventSchema = z
  .object({
    id: z.number().int().describe('Event id'),
    videoId: z.uuid().describe('The video the event was found in'),
    scoringRunId: z.uuid().describe('The scoring run that found it'),
    camera: z.string().nullable().describe("The video's camera, if any"),
    startAt: z.string().nullable().describe('Start, ISO 8601; null when the recording time is unknown'),
    endAt: z.string().nullable().describe('End, ISO 8601; null when the recording time is unknown'),
    startMs: z.number().describe('Start, milliseconds into the video'),
    endMs: z.number().describe('End, milliseconds into the video'),
    peakMs: z.number().describe('Highest-scoring moment, milliseconds into the video'),
    peakScore: z.number().describe('Highest anomaly score within the event, 0 to 1'),
    label: z.string().describe('The anomaly class it was labelled with, e.g. Fighting'),
    thumbnailUrl: z.string().nullable().describe('URL of the JPEG of the peak frame; null when there is none'),
    caption: z
      .string()
      .nullable()
      .describe('A sentence describing the peak frame, by the image captioner (VAD_CAPTIONER); null until captioned'),
    clip: z
      .object({
        url: z
          .string()
          .describe('URL of the browser-playable MP4 of the event (made on first request; Range requests)'),
        fromMs: z.number().describe('Start of the span it covers, milliseconds into the video (5 s before the event)'),
        toMs: z
          .number()
          .describe(
            "End of the span, milliseconds into the video (3 s after the event; the clip stops at the video's end)",
          ),
      })
      .describe('The event as a clip any browser plays, whatever the source format'),
    review: eventReviewSummarySchema
      .nullable()
      .describe("The operator's review (PUT /v1/events/{id}/review); null while nobody has reviewed it"),
  })
  .meta({ id: 'Event' });

/** The review of an event as PUT /v1/events/{id}/review answers it. */
export const eventReviewSchema = eventReviewSummarySchema
  .extend({
    eventId: z
      .number()
      .int()
      .nullable()
      .describe('The event reviewed (null once a rescore left no event over its span)'),
    videoId: z.uuid().describe('The video of the reviewed span'),
    startMs: z.number().describe("Start of the reviewed span, milliseconds into the video (the event's when reviewed)"),
    endMs: z.number().describe('End of the reviewed span, milliseconds into the video'),
    label: z.string().describe("The class the operator confirmed (true) or rejected (false): the event's label"),
  })
  .meta({ id: 'EventReview' });

/** A verdict as JSON sends it: the strings 'true' / 'false', or the booleans. */
export const eventReviewBodySchema = z.object({
  verdict: z
    .union([z.enum(REVIEW_VERDICTS), z.boolean().transform((v) => (v ? 'true' : 'false'))])
    .describe("'true' (or true): a real incident; 'false' (or false): a false alarm"),
  note: z
    .string()
    .max(2000)
    .superRefine((value, ctx) => {
      const problem = storableText(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .nullable()
    .optional()
    .describe('A note for the record, at most 2000 characters; reviewing again replaces it (none: no note)'),
});

export const eventReviewRemovedSchema = z.object({
  eventId: z.number().int().describe('The event'),
  removed: z.boolean().describe('Whether it had a review, now removed'),
});

export const scoresSchema = z
  .object({
    videoId: z.uuid(),
    run: runSchema,
    runs: z.array(runSchema.pick({ id: true, promptSet: true, aggregator: true, createdAt: true, current: true })),
    clips: z.array(clipSchema),
    events: z
      .array(eventSchema.omit({ review: true }))
      .describe("The run's events (with their reviews: GET /v1/events)"),
  })
  .meta({ id: 'Scores' });

// Prompt set names, class names and phrases end up in PostgreSQL (scoring runs, event labels).
export const rescoreBodySchema = scoringOverridesSchema
  .superRefine((body, ctx) => checkStorableDeep(body, ctx))
  .default({});

export const rescoreResponseSchema = z.object({ videoId: z.uuid(), jobId: z.string() });

const eventListQuery = (timeZone: string) =>
  z
    .object({
      camera: cameraName.optional(),
      since: isoDateTime(timeZone).optional().describe(`Events starting at or after: ${DATE_TIME_RULE}`),
      until: isoDateTime(timeZone).optional().describe(`Events starting before: ${DATE_TIME_RULE}`),
      minScore: z.coerce
        .number()
        .min(0)
        .max(1)
        .refine(isStorableReal, { message: 'must be 0, or between 1.5e-45 and 1 (a real)' })
        .optional(),
      label: sqlText(200).optional(),
      verdict: z
        .enum([...REVIEW_VERDICTS, 'unreviewed'])
        .optional()
        .describe("Only events reviewed as true (real incidents) or false (false alarms), or 'unreviewed' ones"),
      caption: sqlText(500)
        .optional()
        .describe(
          'Only events whose caption has these words (full-text search: stemmed, `smoke -car`, "a quoted phrase")',
        ),
      order: z.enum(['time', 'score']).default('time').describe('time: newest first; score: highest peak first'),
      limit: limit(1000, 50),
      cursor: cursorParam.optional(),
    })
    .refine((q) => !q.since || !q.until || q.since < q.until, { message: 'must be after since', path: ['until'] });

/** Search query text: what the search service takes (its own checks say why a text is refused). */
const searchQuery = (timeZone: string) =>
  z
    .object({
      q: z
        .string()
        .max(4096)
        .optional()
        .describe(
          `What to look for, in words (at most ${SEARCH_TEXT_MAX_CHARS} characters), e.g. a person climbing the fence`,
        ),
      likeEvent: z.coerce
        .number()
        .int()
        .positive({ message: 'must be an event id' })
        .optional()
        .describe("Instead of q: moments that look like this event's peak frame"),
      camera: cameraName.optional(),
      since: isoDateTime(timeZone).optional().describe(`Moments at or after: ${DATE_TIME_RULE}`),
      until: isoDateTime(timeZone).optional().describe(`Moments before: ${DATE_TIME_RULE}`),
      model: sqlText(200)
        .optional()
        .describe("The embedding model whose frames to search (default: VAD_MODEL, or the event's)"),
      limit: limit(SEARCH_MAX_LIMIT, 20),
      offset: z.coerce
        .number()
        .int()
        .min(0)
        .max(SEARCH_MAX_OFFSET)
        .default(0)
        .describe('Moments to skip (the next page)'),
    })
    .refine((q) => (q.q === undefined) !== (q.likeEvent === undefined), {
      message: 'give either q (a text) or likeEvent (an event id)',
      path: ['q'],
    });

const searchMomentSchema = z.object({
  rank: z.number().int().describe('1 for the best match'),
  videoId: z.uuid(),
  camera: z.string().nullable(),
  startMs: z.number().describe('Start, milliseconds into the video'),
  endMs: z.number().describe('End, milliseconds into the video'),
  startAt: z.string().nullable().describe('Start, ISO 8601; null when the recording time is unknown'),
  endAt: z.string().nullable(),
  bestFrame: z.number().int().describe('The best-matching sampled frame (its index)'),
  bestMs: z.number().describe('Its time, milliseconds into the video'),
  bestAt: z.string().nullable(),
  score: z.number().describe("Cosine of the best frame's embedding with the query"),
  relativeScore: z
    .number()
    .describe("The score in standard deviations above the mean of its camera's frames for the same query"),
  frames: z.number().int().describe('Sampled frames in the moment'),
  thumbnailUrl: z.string().describe('URL of a JPEG of the best frame (made on first request)'),
});

export const searchResultSchema = z
  .object({
    query: z.object({ text: z.string().optional(), likeEvent: z.number().int().optional() }),
    model: z.string(),
    method: z.enum(['exact', 'index']).describe('exact: every frame in scope compared; index: nearest-neighbour index'),
    videosSearched: z.number().int(),
    framesSearched: z.number().int(),
    excluded: z
      .object({
        otherModel: z.number().int(),
        embeddingsRemoved: z.number().int(),
        notDone: z.number().int(),
        unindexed: z.number().int(),
      })
      .describe('Videos in scope the search could not look at, by reason'),
    cameras: z.array(
      z.object({ camera: z.string().nullable(), mean: z.number(), std: z.number(), frames: z.number().int() }),
    ),
    moments: z.array(searchMomentSchema),
    found: z.number().int(),
    nextOffset: z.number().int().nullable(),
    tookMs: z.number(),
  })
  .meta({ id: 'SearchResult' });

export const frameParams = z.object({
  id: z.uuid({ message: 'must be a video id (UUID)' }),
  frame: z.coerce.number().int().min(0).max(100_000_000),
});

export const eventListSchema = z
  .object({ items: z.array(eventSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'EventList' });

const queueHealthSchema = z.object({
  name: z.enum(QUEUE_NAMES),
  isPaused: z.boolean(),
  counts: z.object({
    waiting: z.number(),
    prioritized: z.number(),
    active: z.number(),
    delayed: z.number(),
    failed: z.number(),
    completed: z.number(),
    waitingChildren: z.number(),
  }),
  oldestWaitingMs: z.number().nullable(),
  throughputPerMinute: z.object({ m1: z.number(), m5: z.number(), m15: z.number() }),
  completedPerMinute: z.array(z.number()).describe('Jobs completed in each of the last 60 minutes, oldest first'),
  processingMs: z.object({ samples: z.number(), mean: z.number().nullable(), p95: z.number().nullable() }),
  workers: z.number(),
  failureReasons: z.array(z.object({ reason: z.string(), count: z.number() })),
  held: z
    .object({ jobs: z.number(), until: z.string().nullable() })
    .describe('Delayed jobs the closed processing window holds, and when it releases them'),
});

export const healthReportSchema = z
  .object({
    at: z.string(),
    queues: z.array(queueHealthSchema),
    backlog: z.object({
      videos: z.number(),
      videoSeconds: z.number(),
      urgent: z
        .object({ videos: z.number(), videoSeconds: z.number() })
        .describe('Urgent videos of the backlog: they run at once, also while the window is closed'),
      videoSecondsPerSecond: z.number().nullable(),
      perVideoSeconds: z.number().describe('Wall time each video costs beyond its footage, from recent videos'),
      secondsPerVideoSecond: z.number().nullable().describe('Wall seconds per second of footage beyond that'),
      rateWindowMinutes: z.number(),
      drainSeconds: z.number().nullable(),
      drainAt: z.string().nullable(),
    }),
    forecast: z.object({
      window: z.string().nullable().describe('The processing window, e.g. "22:00-06:00 Europe/Berlin"; null: any time'),
      isOpen: z.boolean(),
      opensAt: z.string().nullable(),
      closesAt: z.string().nullable(),
      held: z
        .object({ videos: z.number(), videoSeconds: z.number(), until: z.string() })
        .nullable()
        .describe('While the window is closed: the videos it holds (all but urgent ones) and when it opens'),
      urgentDoneAt: z
        .string()
        .nullable()
        .describe('While the window is closed: when the urgent videos, which run now, will be done'),
      finishAt: z.string().nullable().describe('When the backlog will be done at the recent rate, within the window'),
      finishesInWindow: z.boolean().nullable(),
      warning: z.string().nullable(),
    }),
  })
  .meta({ id: 'QueueHealth' });

export const retryResponseSchema = z.object({
  queue: z.enum(QUEUE_NAMES),
  videos: z.array(z.uuid()).describe('Videos queued again'),
  skipped: z.array(z.uuid()).describe('Videos with a job still running (retry later) or no longer failed'),
  rescores: z.number(),
});
export const queueStateSchema = z.object({ queue: z.enum(QUEUE_NAMES), isPaused: z.boolean() });

function buildRequestSchemas(timeZone: string) {
  const uploadFieldsSchema = uploadFields(timeZone);
  return {
    /** Multipart upload fields. */
    uploadFieldsSchema,
    /** JSON registration of a file under the storage root. */
    registerBodySchema: uploadFieldsSchema.extend({
      uri: sqlText(4096).describe('Path of a video file under the storage root (relative to it, or absolute)'),
    }),
    videoListQuery: videoListQuery(timeZone),
    eventListQuery: eventListQuery(timeZone),
    searchQuery: searchQuery(timeZone),
  };
}

export type RequestSchemas = ReturnType<typeof buildRequestSchemas>;

const requestSchemaCache = new Map<string, RequestSchemas>();

/**
 * The request shapes that take date-times, reading those without an offset
 * in `timeZone` (the API's VAD_TIMEZONE, config.schedule.timeZone): built once
 * per zone, so every app of a process on the same configuration shares them.
 */
export function requestSchemas(timeZone: string): RequestSchemas {
  let schemas = requestSchemaCache.get(timeZone);
  if (!schemas) {
    schemas = buildRequestSchemas(timeZone);
    requestSchemaCache.set(timeZone, schemas);
  }
  return schemas;
}
