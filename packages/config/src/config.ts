import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { z } from 'zod';
import type { ApiToken } from './api-token.js';
import { type Env, envSchema } from './env-schema.js';
import type { PipelineSettings } from './pipeline-config.js';

export interface Config {
  /** `explicit`: set by the user (environment or .env), so no embedded fallback replaces it. */
  redis: { url: string; explicit: boolean };
  database: { url: string; explicit: boolean };
  /** The embedded PostgreSQL server for a machine with only Node.js (see @vad/embedded). */
  embedded: { mode: 'auto' | 'on' | 'off'; dir: string; port: number };
  queue: {
    /** Where the queues live; `auto` is resolved at start (see resolveServices in @vad/runtime). */
    backend: 'auto' | 'redis' | 'postgres';
    prefix: string;
    attempts: number;
    backoffMs: number;
    lockDurationMs: number;
    /** Times a job may be found stalled (its worker died or hung) before it fails. */
    maxStalled: number;
  };
  reconcile: {
    /** How often the reconciler looks for videos with no live job. */
    everyS: number;
    /** Times it puts one video back on its way before failing it with the reason. */
    maxRecoveries: number;
  };
  storage: { root: string };
  models: { dir: string; model: string };
  /** The recorded pipeline settings but the input size, which comes from the model (see PipelineConfig). */
  pipeline: PipelineSettings;
  ingest: { concurrency: number; maxPendingSegments: number };
  embed: {
    provider: Env['VAD_EXECUTION_PROVIDER'];
    /** Frames per onnxruntime run; unset = 32 on CPU, 256 on CUDA. */
    batchSize: number | undefined;
    batchWaitMs: number;
    threads: number;
    graphOptimization: Env['VAD_GRAPH_OPTIMIZATION'];
    concurrency: number;
    /** onnxruntime runs at once in the inference thread. */
    parallelRuns: number;
    /** How frame embeddings are stored: float16 (half the bytes) or float32. */
    dtype: Env['VAD_EMBEDDING_DTYPE'];
  };
  ffmpeg: { ffmpegPath: string | undefined; ffprobePath: string | undefined; hwaccel: 'none' | 'cuda' };
  log: { level: Env['VAD_LOG_LEVEL'] };
  schedule: {
    /** IANA time zone of the processing window, retention time and times read from file names. */
    timeZone: string;
    /** `HH:MM-HH:MM`: work that is not urgent waits outside it; unset = always. */
    window: string | undefined;
  };
  watch: { stableMs: number; polling: boolean };
  retention: {
    /** Daily time (HH:MM in the time zone) the retention job runs. */
    at: string;
    jobsDays: number;
    embeddingsDays: number | undefined;
    thumbnailsDays: number | undefined;
    resultsDays: number | undefined;
    sourcesDays: number | undefined;
  };
  caption: {
    /** The image captioner of the caption stage (a name in models/manifest.json's captioners); unset: no captions. */
    captioner: string | undefined;
    /** Captions at most this many events in any 24 hours. */
    maxPerDay: number;
  };
  search: {
    /**
     * Searches over at most this many stored frames compare with every one
     * (exact); larger ones use the approximate nearest-neighbour index.
     */
    exactMaxFrames: number;
    /** Memory for frame vectors kept between searches (per process). */
    cacheBytes: number;
    /** `auto`: the index is kept up to date by the scheduler and used past exactMaxFrames; `off`: always exact. */
    index: Env['VAD_SEARCH_INDEX'];
  };
  api: {
    host: string;
    port: number;
    /** Bearer tokens the API accepts (hashed), each with its scope. */
    tokens: ApiToken[];
    uploadMaxBytes: number;
    /** Signs session cookies and CSRF tokens; unset: a random key kept under the storage root. */
    sessionSecret: string | undefined;
    /** How long a review-app login lasts. */
    sessionHours: number;
    /** The built review app (index.html and assets); unset: apps/web/dist of this checkout. */
    webDir: string | undefined;
  };
  scoring: {
    /** A JSON prompt-set file; unset = the built-in normal + 13 UCF-Crime classes. */
    promptSetFile: string | undefined;
    aggregator: Env['VAD_AGGREGATOR'];
    /** ONNX temporal head for aggregator `onnx`. */
    temporalHead: string | undefined;
    /** How clip anomaly scores are made (VAD_SCORING_MODE). */
    mode: Env['VAD_SCORING_MODE'];
    /** The head trained by `vad train`, for mode `learned`. */
    head: string | undefined;
    threshold: number;
    smoothingClips: number;
    minDurationMs: number;
    mergeGapMs: number;
  };
}

/** Variables earlier versions read, with what replaced them: set, they would silently mean nothing. */
const REMOVED_VARIABLES: Record<string, string> = {
  VAD_INPUT_SIZE: "the frame size is the model's own input size, from its manifest (VAD_MODEL)",
};

/** A configuration value is wrong: the message names each variable and what it allows. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Variables to read; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** A .env file whose values apply where `env` has none; defaults to ./.env when present. */
  envFile?: string | false;
  /** Base for relative paths; defaults to the current directory. */
  cwd?: string;
}

function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError([`${path}: cannot be read (${(error as Error).message})`]);
  }
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? 'configuration');
  const value = raw[name];
  const shown = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  return `${name}: ${issue.message}${shown}`;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const fromFile = options.envFile === false ? {} : readEnvFile(resolve(cwd, options.envFile ?? '.env'));
  const raw: Record<string, string | undefined> = { ...fromFile };
  for (const [key, value] of Object.entries(options.env ?? process.env)) {
    if (value !== undefined && value !== '') raw[key] = value;
  }

  const removed = Object.entries(REMOVED_VARIABLES)
    .filter(([name]) => raw[name] !== undefined)
    .map(([name, why]) => `${name} is no longer read: ${why}; remove it`);
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success || removed.length) {
    throw new ConfigError([...removed, ...(parsed.error?.issues.map((issue) => describeIssue(issue, raw)) ?? [])]);
  }
  const env = parsed.data;
  return {
    redis: { url: env.VAD_REDIS_URL, explicit: raw.VAD_REDIS_URL !== undefined },
    database: { url: env.VAD_DATABASE_URL, explicit: raw.VAD_DATABASE_URL !== undefined },
    embedded: {
      mode: env.VAD_EMBEDDED,
      dir: resolve(cwd, env.VAD_EMBEDDED_DIR),
      port: env.VAD_EMBEDDED_PORT,
    },
    queue: {
      backend: env.VAD_QUEUE_BACKEND,
      prefix: env.VAD_QUEUE_PREFIX,
      attempts: env.VAD_JOB_ATTEMPTS,
      backoffMs: env.VAD_JOB_BACKOFF_MS,
      lockDurationMs: env.VAD_LOCK_DURATION_MS,
      maxStalled: env.VAD_MAX_STALLED,
    },
    reconcile: { everyS: env.VAD_RECONCILE_EVERY_S, maxRecoveries: env.VAD_MAX_RECOVERIES },
    storage: { root: resolve(cwd, env.VAD_STORAGE_DIR) },
    models: { dir: resolve(cwd, env.VAD_MODEL_DIR), model: env.VAD_MODEL },
    pipeline: {
      model: env.VAD_MODEL,
      sampleFps: env.VAD_SAMPLE_FPS,
      segmentFrames: env.VAD_SEGMENT_FRAMES,
      clipFrames: env.VAD_CLIP_FRAMES,
      clipStride: env.VAD_CLIP_STRIDE,
      sampling: env.VAD_SAMPLING,
      ...(env.VAD_SAMPLING === 'motion'
        ? { motion: { threshold: env.VAD_MOTION_THRESHOLD, minArea: env.VAD_MOTION_MIN_AREA } }
        : {}),
    },
    ingest: { concurrency: env.VAD_INGEST_CONCURRENCY, maxPendingSegments: env.VAD_MAX_PENDING_SEGMENTS },
    embed: {
      provider: env.VAD_EXECUTION_PROVIDER,
      batchSize: env.VAD_BATCH_SIZE,
      batchWaitMs: env.VAD_BATCH_WAIT_MS,
      threads: env.VAD_ORT_THREADS,
      graphOptimization: env.VAD_GRAPH_OPTIMIZATION,
      concurrency: env.VAD_EMBED_CONCURRENCY,
      parallelRuns: env.VAD_INFERENCE_PARALLEL_RUNS,
      dtype: env.VAD_EMBEDDING_DTYPE,
    },
    ffmpeg: { ffmpegPath: env.VAD_FFMPEG_PATH, ffprobePath: env.VAD_FFPROBE_PATH, hwaccel: env.VAD_HWACCEL },
    log: { level: env.VAD_LOG_LEVEL },
    schedule: { timeZone: env.VAD_TIMEZONE, window: env.VAD_PROCESSING_WINDOW },
    watch: { stableMs: env.VAD_WATCH_STABLE_MS, polling: env.VAD_WATCH_POLLING },
    retention: {
      at: env.VAD_RETENTION_AT,
      jobsDays: env.VAD_RETAIN_JOBS_DAYS,
      embeddingsDays: env.VAD_RETAIN_EMBEDDINGS_DAYS,
      thumbnailsDays: env.VAD_RETAIN_THUMBNAILS_DAYS,
      resultsDays: env.VAD_RETAIN_RESULTS_DAYS,
      sourcesDays: env.VAD_RETAIN_SOURCES_DAYS,
    },
    caption: { captioner: env.VAD_CAPTIONER, maxPerDay: env.VAD_CAPTION_MAX_PER_DAY },
    search: {
      exactMaxFrames: env.VAD_SEARCH_EXACT_MAX_FRAMES,
      cacheBytes: env.VAD_SEARCH_CACHE_MB * 1024 * 1024,
      index: env.VAD_SEARCH_INDEX,
    },
    api: {
      host: env.VAD_API_HOST,
      port: env.VAD_API_PORT,
      tokens: env.VAD_API_TOKENS,
      uploadMaxBytes: env.VAD_UPLOAD_MAX_MB * 1024 * 1024,
      sessionSecret: env.VAD_SESSION_SECRET,
      sessionHours: env.VAD_SESSION_HOURS,
      webDir: env.VAD_WEB_DIR ? resolve(cwd, env.VAD_WEB_DIR) : undefined,
    },
    scoring: {
      promptSetFile: env.VAD_PROMPT_SET ? resolve(cwd, env.VAD_PROMPT_SET) : undefined,
      aggregator: env.VAD_AGGREGATOR,
      temporalHead: env.VAD_TEMPORAL_HEAD ? resolve(cwd, env.VAD_TEMPORAL_HEAD) : undefined,
      mode: env.VAD_SCORING_MODE,
      head: env.VAD_SCORING_HEAD ? resolve(cwd, env.VAD_SCORING_HEAD) : undefined,
      threshold: env.VAD_EVENT_THRESHOLD,
      smoothingClips: env.VAD_SMOOTHING_CLIPS,
      minDurationMs: env.VAD_EVENT_MIN_DURATION_MS,
      mergeGapMs: env.VAD_EVENT_MERGE_GAP_MS,
    },
  };
}

/**
 * For a process's entry point: load the configuration or print what is wrong
 * and exit with EX_CONFIG (78), before anything connects anywhere.
 */
export function loadConfigOrExit(options?: LoadConfigOptions): Config {
  try {
    return loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
      process.exit(78);
    }
    throw error;
  }
}
