import { z } from 'zod';
import { aggregatorSchema, scoringModeSchema } from './aggregators.js';
import { apiTokenEntrySchema } from './api-token.js';
import { samplingModeSchema } from './pipeline-config.js';

const positiveInt = (min = 1) => z.coerce.number().int().min(min);
const positiveNumber = z.coerce.number().positive();
const EMBEDDED_MODES = { auto: 'auto', on: 'on', off: 'off', '1': 'on', '0': 'off', true: 'on', false: 'off' } as const;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every environment variable vad reads, with its default and what it allows.
 * `.env.example` at the repository root documents the same list; a test keeps
 * the two in agreement.
 */
export const envSchema = z
  .object({
    VAD_REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
    VAD_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/vad'),
    VAD_QUEUE_PREFIX: z
      .string()
      .regex(
        /^\{[\w.-]+\}$/,
        'must be a hash-tagged name in braces, e.g. {vad}, so Redis Cluster keeps a queue on one slot',
      )
      .default('{vad}'),
    VAD_QUEUE_BACKEND: z
      .enum(['auto', 'redis', 'postgres'], {
        error: "must be redis (queues in Redis), postgres (queues in vad's PostgreSQL database) or auto",
      })
      .default('auto'),
    VAD_EMBEDDED: z
      .enum(['auto', 'on', 'off', '1', '0', 'true', 'false'], {
        error: 'must be auto (start the embedded PostgreSQL when nothing is configured or answering), on or off',
      })
      .default('auto')
      .transform((value) => EMBEDDED_MODES[value]),
    VAD_EMBEDDED_DIR: z.string().min(1).default('./var/postgres'),
    VAD_EMBEDDED_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
    VAD_STORAGE_DIR: z.string().min(1).default('./var/storage'),
    VAD_MODEL_DIR: z.string().min(1).default('./var/models'),
    VAD_MODEL: z
      .string()
      .regex(/^[\w.-]+$/, 'must be a model name: one of models/manifest.json, or one added with vad models add')
      .default('clip-vit-base-patch32'),
    VAD_SAMPLE_FPS: positiveNumber.max(60).default(2),
    VAD_SAMPLING: samplingModeSchema.default('fixed'),
    VAD_MOTION_THRESHOLD: positiveNumber.max(255).default(12),
    VAD_MOTION_MIN_AREA: positiveNumber.max(1).default(0.002),
    VAD_HWACCEL: z.enum(['none', 'cuda']).default('none'),
    VAD_SEGMENT_FRAMES: positiveInt().max(4096).default(64),
    VAD_CLIP_FRAMES: positiveInt().max(1024).default(16),
    VAD_CLIP_STRIDE: positiveInt().max(1024).default(8),
    VAD_INGEST_CONCURRENCY: positiveInt().max(64).default(1),
    VAD_MAX_PENDING_SEGMENTS: positiveInt().max(10_000).default(8),
    VAD_EXECUTION_PROVIDER: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    VAD_BATCH_SIZE: positiveInt().max(4096).optional(),
    VAD_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(20),
    VAD_ORT_THREADS: z.coerce.number().int().min(0).max(256).default(0),
    VAD_GRAPH_OPTIMIZATION: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
    VAD_INFERENCE_PARALLEL_RUNS: positiveInt().max(16).default(1),
    VAD_EMBED_CONCURRENCY: positiveInt().max(256).default(4),
    VAD_EMBEDDING_DTYPE: z.enum(['float16', 'float32']).default('float16'),
    VAD_LOCK_DURATION_MS: positiveInt(1000).default(60_000),
    VAD_MAX_STALLED: positiveInt().max(1000).default(5),
    VAD_PROMPT_SET: z.string().min(1).optional(),
    VAD_AGGREGATOR: aggregatorSchema.default('attention'),
    VAD_TEMPORAL_HEAD: z.string().min(1).optional(),
    VAD_SCORING_MODE: scoringModeSchema.default('prompts'),
    VAD_SCORING_HEAD: z.string().min(1).optional(),
    VAD_EVENT_THRESHOLD: z.coerce.number().gt(0).lt(1).default(0.5),
    VAD_SMOOTHING_CLIPS: positiveInt().max(99).default(3),
    VAD_EVENT_MIN_DURATION_MS: z.coerce.number().int().min(0).default(2_000),
    VAD_EVENT_MERGE_GAP_MS: z.coerce.number().int().min(0).default(4_000),
    VAD_JOB_ATTEMPTS: positiveInt().max(100).default(5),
    VAD_JOB_BACKOFF_MS: positiveInt().default(5_000),
    VAD_FFMPEG_PATH: z.string().min(1).optional(),
    VAD_FFPROBE_PATH: z.string().min(1).optional(),
    VAD_API_HOST: z.string().min(1).default('127.0.0.1'),
    VAD_API_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    VAD_API_TOKENS: z
      .string()
      .default('')
      .transform((value) => value.split(',').filter((entry) => entry.trim() !== ''))
      .pipe(z.array(apiTokenEntrySchema)),
    VAD_UPLOAD_MAX_MB: positiveInt().default(20_480),
    VAD_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
    VAD_SESSION_HOURS: positiveInt()
      .max(24 * 90)
      .default(12),
    VAD_WEB_DIR: z.string().min(1).optional(),
    VAD_TIMEZONE: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin or America/New_York'),
    VAD_PROCESSING_WINDOW: z
      .string()
      .regex(
        /^([01]?\d|2[0-3]):[0-5]\d-([01]?\d|2[0-3]):[0-5]\d$/,
        'must be HH:MM-HH:MM in VAD_TIMEZONE, e.g. 22:00-06:00 (crossing midnight is fine)',
      )
      .refine((w) => w.split('-')[0] !== w.split('-')[1], 'must open and close at different times')
      .optional(),
    VAD_WATCH_STABLE_MS: z.coerce.number().int().min(0).default(10_000),
    VAD_WATCH_POLLING: z.stringbool().default(false),
    VAD_RECONCILE_EVERY_S: positiveInt(10).max(86_400).default(300),
    VAD_MAX_RECOVERIES: z.coerce.number().int().min(0).max(100).default(3),
    VAD_RETENTION_AT: z
      .string()
      .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (in VAD_TIMEZONE)')
      .default('12:00'),
    VAD_RETAIN_JOBS_DAYS: positiveInt().max(3650).default(7),
    VAD_RETAIN_EMBEDDINGS_DAYS: positiveInt().max(36_500).optional(),
    VAD_RETAIN_THUMBNAILS_DAYS: positiveInt().max(36_500).optional(),
    VAD_RETAIN_RESULTS_DAYS: positiveInt().max(36_500).optional(),
    VAD_RETAIN_SOURCES_DAYS: positiveInt().max(36_500).optional(),
    VAD_CAPTIONER: z
      .string()
      .regex(/^[\w.-]+$/, 'must be a captioner name from models/manifest.json')
      .optional(),
    VAD_CAPTION_MAX_PER_DAY: positiveInt(0).max(1_000_000).default(200),
    VAD_SEARCH_EXACT_MAX_FRAMES: positiveInt(0).max(50_000_000).default(250_000),
    VAD_SEARCH_CACHE_MB: positiveInt(16).max(1_000_000).default(1024),
    VAD_SEARCH_INDEX: z.enum(['auto', 'off']).default('auto'),
    VAD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((env) => env.VAD_SCORING_MODE !== 'learned' || env.VAD_SCORING_HEAD, {
    path: ['VAD_SCORING_HEAD'],
    message: 'is required when VAD_SCORING_MODE=learned: the path of a head trained by `vad train`',
  })
  .refine((env) => env.VAD_AGGREGATOR !== 'onnx' || env.VAD_TEMPORAL_HEAD, {
    path: ['VAD_TEMPORAL_HEAD'],
    message: 'is required when VAD_AGGREGATOR=onnx: the path of the temporal head ONNX file',
  })
  .refine((env) => env.VAD_CLIP_STRIDE <= env.VAD_CLIP_FRAMES, {
    path: ['VAD_CLIP_STRIDE'],
    message: 'must not exceed VAD_CLIP_FRAMES, or frames between clips would never be scored',
  });

export type Env = z.infer<typeof envSchema>;
