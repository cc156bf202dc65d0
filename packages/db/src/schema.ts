import type { PipelineConfig, ScoringMode } from '@vad/config';
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Raw bytes: embeddings are stored as little-endian float16/float32 arrays, not as JSON. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** PostgreSQL's full-text search document. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const videoStatus = pgEnum('video_status', [
  'queued',
  'ingesting',
  'embedding',
  'aggregating',
  'done',
  'failed',
]);
export type VideoStatus = (typeof videoStatus.enumValues)[number];
export const VIDEO_STATUSES = videoStatus.enumValues;

export const embeddingDtype = pgEnum('embedding_dtype', ['float16', 'float32']);

export const cameras = pgTable('cameras', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique(),
  timezone: text('timezone').notNull().default('UTC'),
  /** Share of processing against other cameras (100 = normal, 200 = twice as fast through the queue). */
  weight: integer('weight').notNull().default(100),
  /**
   * Event threshold calibrated on the camera's own recent scores (`vad cameras
   * calibrate`); null: VAD_EVENT_THRESHOLD. It holds for `scoring_mode` only.
   */
  threshold: real('threshold'),
  /** The mode the camera is scored in and its threshold was calibrated for; null: VAD_SCORING_MODE. */
  scoringMode: text('scoring_mode').$type<ScoringMode>(),
  createdAt: createdAt(),
});

export const videos = pgTable(
  'videos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    cameraId: integer('camera_id').references(() => cameras.id),
    sourceUri: text('source_uri').notNull(),
    sha256: text('sha256').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    durationMs: integer('duration_ms'),
    fps: doublePrecision('fps'),
    width: integer('width'),
    height: integer('height'),
    codec: text('codec'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }),
    status: videoStatus('status').notNull().default('queued'),
    error: text('error'),
    model: text('model').notNull(),
    pipelineConfig: jsonb('pipeline_config').$type<PipelineConfig>().notNull(),
    configHash: text('config_hash').notNull(),
    /** Sampled frames decoded so far, and segments (embed jobs) written so far. */
    framesDecoded: integer('frames_decoded').notNull().default(0),
    segmentsWritten: integer('segments_written').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    ingestStartedAt: timestamp('ingest_started_at', { withTimezone: true }),
    ingestFinishedAt: timestamp('ingest_finished_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** BullMQ priority its jobs were queued with (1 = most urgent): fair share per camera, or as asked. */
    priority: integer('priority'),
    /** Processed at once, outside the processing window too. */
    urgent: boolean('urgent').notNull().default(false),
    /** Retention removed the frame embeddings (no rescoring after) / the source file. */
    embeddingsRemovedAt: timestamp('embeddings_removed_at', { withTimezone: true }),
    sourceRemovedAt: timestamp('source_removed_at', { withTimezone: true }),
    /** Times the reconciler put the video back on its way after it was found with no live job. */
    recoveries: integer('recoveries').notNull().default(0),
    /**
     * The scoring run whose scores and events are the video's results (the
     * latest saved). Queries join on it instead of searching for the latest run.
     */
    currentRunId: uuid('current_run_id').references((): AnyPgColumn => scoringRuns.id, { onDelete: 'set null' }),
  },
  (t) => [
    uniqueIndex('videos_sha256_config_uq').on(t.sha256, t.configHash),
    index('videos_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('videos_finished_idx').on(t.finishedAt),
    index('videos_source_idx').on(t.sourceUri),
    index('videos_camera_recorded_idx').on(t.cameraId, t.recordedAt),
    index('videos_status_idx').on(t.status, t.createdAt),
  ],
);

/**
 * Partition key of the day-partitioned tables (frame_embeddings, clip_scores):
 * the UTC day of the video's recording (`2026-11-30`). Each table is
 * declaratively range-partitioned by it, one partition per day
 * (`frame_embeddings_d20261130`), created on demand before a write (see
 * partitions.ts); the daily retention run drops a whole day when every video
 * in it is past retention. drizzle cannot express `PARTITION BY`: migration
 * 0009 creates these tables by hand.
 */
const recordedDay = () => date('recorded_day', { mode: 'string' }).notNull();

export const frameEmbeddings = pgTable(
  'frame_embeddings',
  {
    videoId: uuid('video_id')
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    frameIndex: integer('frame_index').notNull(),
    model: text('model').notNull(),
    ptsMs: integer('pts_ms').notNull(),
    dtype: embeddingDtype('dtype').notNull().default('float32'),
    /** The encoded vector; null for a frame that reuses an earlier frame's (same_as_frame). */
    embedding: bytea('embedding'),
    /**
     * Motion sampling: a sampled frame whose picture barely changed is not
     * encoded; it shares the vector of the earlier frame of the same video and
     * model with this frame_index (a row that holds a vector itself).
     */
    sameAsFrame: integer('same_as_frame'),
    /**
     * The day of the video's recording, coalesce(recorded_at, created_at) in
     * UTC, when its first rows were written; later rows of the video follow its
     * earlier ones, so a video's rows never span two partitions.
     */
    recordedDay: recordedDay(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.videoId, t.model, t.frameIndex, t.recordedDay] }),
    check('frame_embeddings_vector_or_reuse_ck', sql`(${t.embedding} is null) <> (${t.sameAsFrame} is null)`),
    check('frame_embeddings_reuse_earlier_ck', sql`${t.sameAsFrame} < ${t.frameIndex}`),
  ],
);

export const scoringRuns = pgTable(
  'scoring_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    videoId: uuid('video_id')
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    promptSet: text('prompt_set').notNull(),
    aggregator: text('aggregator').notNull(),
    /** Threshold, smoothing, minimum duration, merge gap, logit scale… as used for this run. */
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    /** Hash of (model, prompt set, aggregator, params): running the same scoring again replaces its run. */
    configHash: text('config_hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('scoring_runs_video_created_idx').on(t.videoId, t.createdAt.desc()),
    uniqueIndex('scoring_runs_video_config_uq').on(t.videoId, t.configHash),
  ],
);

export const clipScores = pgTable(
  'clip_scores',
  {
    scoringRunId: uuid('scoring_run_id')
      .notNull()
      .references(() => scoringRuns.id, { onDelete: 'cascade' }),
    clipIndex: integer('clip_index').notNull(),
    videoId: uuid('video_id')
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    startMs: integer('start_ms').notNull(),
    endMs: integer('end_ms').notNull(),
    validFrames: integer('valid_frames').notNull(),
    anomalyScore: real('anomaly_score').notNull(),
    label: text('label').notNull(),
    /** Class name → probability, for every class of the prompt set. */
    probabilities: jsonb('probabilities').$type<Record<string, number>>().notNull(),
    /** The day of the video's recording, coalesce(recorded_at, created_at) in UTC, when the run was saved. */
    recordedDay: recordedDay(),
  },
  (t) => [
    primaryKey({ columns: [t.scoringRunId, t.clipIndex, t.recordedDay] }),
    index('clip_scores_video_idx').on(t.videoId),
  ],
);

export const anomalyEvents = pgTable(
  'anomaly_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    videoId: uuid('video_id')
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    cameraId: integer('camera_id').references(() => cameras.id),
    scoringRunId: uuid('scoring_run_id')
      .notNull()
      .references(() => scoringRuns.id, { onDelete: 'cascade' }),
    startMs: integer('start_ms').notNull(),
    endMs: integer('end_ms').notNull(),
    peakMs: integer('peak_ms').notNull(),
    /** Absolute times: recorded_at + offset; null when the recording time is unknown. */
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
    peakScore: real('peak_score').notNull(),
    label: text('label').notNull(),
    thumbnailPath: text('thumbnail_path'),
    /** A sentence describing the peak frame, from the image captioner (VAD_CAPTIONER); null until captioned. */
    caption: text('caption'),
    /** The captioner that wrote it, and when. */
    captionModel: text('caption_model'),
    captionedAt: timestamp('captioned_at', { withTimezone: true }),
    /** The caption's words for full-text search (English stemming), kept by PostgreSQL. */
    captionWords: tsvector('caption_words').generatedAlwaysAs(sql`to_tsvector('english', coalesce(caption, ''))`),
    /**
     * The event belongs to its video's current scoring run (videos.current_run_id),
     * kept in step by saveRun: queries read current events straight from the
     * partial indexes below, with no join to find each video's current run.
     */
    current: boolean('current').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    index('anomaly_events_camera_start_idx').on(t.cameraId, t.startAt.desc(), t.id.desc()).where(sql`${t.current}`),
    index('anomaly_events_start_idx').on(t.startAt.desc(), t.id.desc()).where(sql`${t.current}`),
    index('anomaly_events_score_idx').on(t.peakScore.desc(), t.id.desc()).where(sql`${t.current}`),
    index('anomaly_events_run_idx').on(t.scoringRunId),
    index('anomaly_events_video_idx').on(t.videoId),
    index('anomaly_events_caption_words_idx').using('gin', t.captionWords),
    index('anomaly_events_captioned_idx').on(t.captionedAt),
  ],
);

/** An operator's verdict on an event: a true alarm or a false one. */
export const reviewVerdict = pgEnum('review_verdict', ['true', 'false']);

/**
 * Operators' verdicts on anomaly events. A review keeps the reviewed time span
 * of its video, so it outlives the event it was given on: a rescore creates
 * new events and re-attaches each review to the new event that overlaps its
 * span most (`event_id` goes null when none does). False alarms feed their
 * camera's normal memory; true ones are training labels.
 */
export const eventReviews = pgTable(
  'event_reviews',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    videoId: uuid('video_id')
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' }).references(() => anomalyEvents.id, { onDelete: 'set null' }),
    startMs: integer('start_ms').notNull(),
    endMs: integer('end_ms').notNull(),
    /** The event's label when it was reviewed (the class the operator confirmed or rejected). */
    label: text('label').notNull(),
    verdict: reviewVerdict('verdict').notNull(),
    note: text('note'),
    /** Who: the API token's name, or the CLI user. */
    reviewedBy: text('reviewed_by').notNull(),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('event_reviews_event_uq').on(t.eventId),
    index('event_reviews_video_idx').on(t.videoId, t.startMs),
    index('event_reviews_verdict_idx').on(t.verdict, t.reviewedAt.desc()),
  ],
);

/**
 * Each camera's memory of normal clip features, per model: sequence features
 * of clips from videos marked normal, false alarms, or its recent history
 * minus confirmed events. Scoring mode `normality` measures a clip's distance
 * to its k nearest normal features, standardised by the camera's own distances.
 */
export const cameraNormalFeatures = pgTable(
  'camera_normal_features',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    cameraId: integer('camera_id')
      .notNull()
      .references(() => cameras.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    /** Where the clip came from; null once its video is removed by retention. */
    videoId: uuid('video_id').references(() => videos.id, { onDelete: 'set null' }),
    clipIndex: integer('clip_index').notNull(),
    /** Why it is normal: 'normal-video', 'false-alarm', 'history'. */
    source: text('source').notNull(),
    dtype: embeddingDtype('dtype').notNull().default('float32'),
    feature: bytea('feature').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('camera_normal_features_camera_idx').on(t.cameraId, t.model, t.createdAt.desc()),
    uniqueIndex('camera_normal_features_clip_uq').on(t.cameraId, t.model, t.videoId, t.clipIndex),
  ],
);

export const textEmbeddings = pgTable(
  'text_embeddings',
  {
    model: text('model').notNull(),
    prompt: text('prompt').notNull(),
    dtype: embeddingDtype('dtype').notNull().default('float32'),
    embedding: bytea('embedding').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.model, t.prompt] })],
);

export const schema = {
  videoStatus,
  embeddingDtype,
  cameras,
  videos,
  frameEmbeddings,
  scoringRuns,
  clipScores,
  anomalyEvents,
  textEmbeddings,
  reviewVerdict,
  eventReviews,
  cameraNormalFeatures,
};

export type Camera = typeof cameras.$inferSelect;
export type Video = typeof videos.$inferSelect;
export type NewVideo = typeof videos.$inferInsert;
export type FrameEmbedding = typeof frameEmbeddings.$inferSelect;
/**
 * A frame embedding row as written by FrameEmbeddingRepository.upsertMany: an
 * encoded frame (`embedding`) or one that reuses an earlier frame's vector
 * (`embedding: null, sameAsFrame`). The partition day is the repository's business.
 */
export type NewFrameEmbedding = Omit<
  typeof frameEmbeddings.$inferInsert,
  'recordedDay' | 'embedding' | 'sameAsFrame'
> & {
  embedding: Buffer | null;
  sameAsFrame?: number | null | undefined;
};
export type ScoringRun = typeof scoringRuns.$inferSelect;
export type ClipScore = typeof clipScores.$inferSelect;
export type AnomalyEvent = typeof anomalyEvents.$inferSelect;
export type TextEmbedding = typeof textEmbeddings.$inferSelect;
export type EventReview = typeof eventReviews.$inferSelect;
export type CameraNormalFeature = typeof cameraNormalFeatures.$inferSelect;
