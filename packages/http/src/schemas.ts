import { VIDEO_STATUSES } from '@vad/db';
import { QUEUE_NAMES, scoringOverridesSchema } from '@vad/queue';
import { MAX_PRIORITY } from '@vad/schedule';
import { z } from 'zod';

/** Request and response shapes of the API: validation, typing and the OpenAPI document all come from these. */

const isoDateTime = z.iso
  .datetime({ offset: true, local: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-28T22:00:00Z' })
  .transform((value) => new Date(value));

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

export const uploadFieldsSchema = z.object({
  camera: z.string().trim().min(1).max(200).optional(),
  recordedAt: isoDateTime.optional(),
  priority: z.coerce.number().int().min(1).max(MAX_PRIORITY).optional(),
  urgent: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
    .optional()
    .describe('Process at once, outside the processing window too'),
});

export const registerBodySchema = uploadFieldsSchema.extend({
  uri: z.string().min(1).describe('Path of a video file under the storage root (relative to it, or absolute)'),
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
  })
  .meta({ id: 'Video' });

export const videoDetailSchema = videoSchema
  .extend({
    progress: z.object({
      ingest: stageSchema.extend({ framesDecoded: z.number(), segmentsWritten: z.number() }),
      embed: z.object({ percent: z.number(), segmentsEmbedded: z.number(), segmentsWritten: z.number() }),
      aggregate: stageSchema,
    }),
  })
  .meta({ id: 'VideoDetail' });

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export const videoListQuery = z.object({
  camera: z.string().min(1).optional(),
  status: z.enum(VIDEO_STATUSES).optional(),
  since: isoDateTime.optional().describe('Recorded at or after'),
  limit: limit(500, 50),
  cursor: z.string().min(1).optional(),
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

export const clipSchema = z.object({
  clipIndex: z.number().int(),
  startMs: z.number(),
  endMs: z.number(),
  validFrames: z.number().int(),
  anomalyScore: z.number(),
  label: z.string(),
  probabilities: z.record(z.string(), z.number()),
});

export const eventSchema = z
  .object({
    id: z.number().int(),
    videoId: z.uuid(),
    scoringRunId: z.uuid(),
    camera: z.string().nullable(),
    startAt: z.string().nullable(),
    endAt: z.string().nullable(),
    startMs: z.number(),
    endMs: z.number(),
    peakMs: z.number(),
    peakScore: z.number(),
    label: z.string(),
    thumbnailUrl: z.string().nullable(),
  })
  .meta({ id: 'Event' });

export const scoresSchema = z.object({
  videoId: z.uuid(),
  run: runSchema,
  runs: z.array(runSchema.pick({ id: true, promptSet: true, aggregator: true, createdAt: true, current: true })),
  clips: z.array(clipSchema),
  events: z.array(eventSchema),
});

export const rescoreBodySchema = scoringOverridesSchema.default({});

export const rescoreResponseSchema = z.object({ videoId: z.uuid(), jobId: z.string() });

export const eventListQuery = z
  .object({
    camera: z.string().min(1).optional(),
    since: isoDateTime.optional().describe('Events starting at or after'),
    until: isoDateTime.optional().describe('Events starting before'),
    minScore: z.coerce.number().min(0).max(1).optional(),
    label: z.string().min(1).optional(),
    order: z.enum(['time', 'score']).default('time').describe('time: newest first; score: highest peak first'),
    limit: limit(1000, 50),
    cursor: z.string().min(1).optional(),
  })
  .refine((q) => !q.since || !q.until || q.since < q.until, { message: 'must be after since', path: ['until'] });

export const eventListSchema = z.object({ items: z.array(eventSchema), nextCursor: z.string().nullable() });

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
    paused: z.number(),
    waitingChildren: z.number(),
  }),
  oldestWaitingMs: z.number().nullable(),
  throughputPerMinute: z.object({ m1: z.number(), m5: z.number(), m15: z.number() }),
  completedPerMinute: z.array(z.number()).describe('Jobs completed in each of the last 60 minutes, oldest first'),
  processingMs: z.object({ samples: z.number(), mean: z.number().nullable(), p95: z.number().nullable() }),
  workers: z.number(),
  failureReasons: z.array(z.object({ reason: z.string(), count: z.number() })),
});

export const healthReportSchema = z
  .object({
    at: z.string(),
    queues: z.array(queueHealthSchema),
    backlog: z.object({
      videos: z.number(),
      videoSeconds: z.number(),
      videoSecondsPerSecond: z.number().nullable(),
      rateWindowMinutes: z.number(),
      drainSeconds: z.number().nullable(),
      drainAt: z.string().nullable(),
    }),
    forecast: z.object({
      window: z.string().nullable().describe('The processing window, e.g. "22:00-06:00 Europe/Berlin"; null: any time'),
      isOpen: z.boolean(),
      opensAt: z.string().nullable(),
      closesAt: z.string().nullable(),
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
