import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '@vad/config';

export interface TestConfigOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
}

export const TEST_QUEUE_BACKEND = process.env.VAD_TEST_QUEUE_BACKEND === 'postgres' ? 'postgres' : 'redis';

/** The configuration a test process runs with: its own database, prefix and storage folder. */
export function createTestConfig(options: TestConfigOptions): Config {
  const storage = mkdtempSync(join(tmpdir(), 'vad-test-storage-'));
  return loadConfig({
    envFile: false,
    env: {
      VAD_DATABASE_URL: options.databaseUrl,
      VAD_REDIS_URL: options.redisUrl,
      VAD_QUEUE_PREFIX: options.prefix,
      // The queue backend under test: redis unless VAD_TEST_QUEUE_BACKEND=postgres (CI runs the core e2e tests on both).
      VAD_QUEUE_BACKEND: TEST_QUEUE_BACKEND,
      VAD_EMBEDDED: 'off',
      VAD_STORAGE_DIR: storage,
      VAD_MODEL_DIR: join(storage, 'models'),
      VAD_LOG_LEVEL: 'silent',
      VAD_JOB_BACKOFF_MS: '200',
      ...options.env,
    },
  });
}

/** The same configuration as environment variables, for worker processes started by a test. */
export function configToEnv(config: Config): Record<string, string> {
  return {
    VAD_DATABASE_URL: config.database.url,
    VAD_REDIS_URL: config.redis.url,
    VAD_QUEUE_PREFIX: config.queue.prefix,
    VAD_QUEUE_BACKEND: config.queue.backend,
    VAD_EMBEDDED: config.embedded.mode,
    VAD_STORAGE_DIR: config.storage.root,
    VAD_MODEL_DIR: config.models.dir,
    VAD_MODEL: config.models.model,
    VAD_SAMPLE_FPS: String(config.pipeline.sampleFps),
    VAD_SEGMENT_FRAMES: String(config.pipeline.segmentFrames),
    VAD_CLIP_FRAMES: String(config.pipeline.clipFrames),
    VAD_CLIP_STRIDE: String(config.pipeline.clipStride),
    VAD_SAMPLING: config.pipeline.sampling ?? 'fixed',
    ...(config.pipeline.motion
      ? {
          VAD_MOTION_THRESHOLD: String(config.pipeline.motion.threshold),
          VAD_MOTION_MIN_AREA: String(config.pipeline.motion.minArea),
        }
      : {}),
    VAD_HWACCEL: config.ffmpeg.hwaccel,
    VAD_INGEST_CONCURRENCY: String(config.ingest.concurrency),
    VAD_MAX_PENDING_SEGMENTS: String(config.ingest.maxPendingSegments),
    VAD_JOB_ATTEMPTS: String(config.queue.attempts),
    VAD_JOB_BACKOFF_MS: String(config.queue.backoffMs),
    VAD_LOCK_DURATION_MS: String(config.queue.lockDurationMs),
    VAD_MAX_STALLED: String(config.queue.maxStalled),
    VAD_RECONCILE_EVERY_S: String(config.reconcile.everyS),
    VAD_MAX_RECOVERIES: String(config.reconcile.maxRecoveries),
    VAD_EXECUTION_PROVIDER: config.embed.provider,
    ...(config.embed.batchSize ? { VAD_BATCH_SIZE: String(config.embed.batchSize) } : {}),
    VAD_BATCH_WAIT_MS: String(config.embed.batchWaitMs),
    VAD_ORT_THREADS: String(config.embed.threads),
    VAD_GRAPH_OPTIMIZATION: config.embed.graphOptimization,
    VAD_EMBED_CONCURRENCY: String(config.embed.concurrency),
    VAD_INFERENCE_PARALLEL_RUNS: String(config.embed.parallelRuns),
    VAD_LOG_LEVEL: config.log.level,
    VAD_TIMEZONE: config.schedule.timeZone,
    ...(config.schedule.window ? { VAD_PROCESSING_WINDOW: config.schedule.window } : {}),
    VAD_WATCH_STABLE_MS: String(config.watch.stableMs),
    VAD_WATCH_POLLING: String(config.watch.polling),
    VAD_RETENTION_AT: config.retention.at,
    VAD_RETAIN_JOBS_DAYS: String(config.retention.jobsDays),
    ...Object.fromEntries(
      (
        [
          ['VAD_RETAIN_EMBEDDINGS_DAYS', config.retention.embeddingsDays],
          ['VAD_RETAIN_THUMBNAILS_DAYS', config.retention.thumbnailsDays],
          ['VAD_RETAIN_RESULTS_DAYS', config.retention.resultsDays],
          ['VAD_RETAIN_SOURCES_DAYS', config.retention.sourcesDays],
        ] as const
      )
        .filter(([, days]) => days !== undefined)
        .map(([name, days]) => [name, String(days)]),
    ),
    ...(config.caption.captioner ? { VAD_CAPTIONER: config.caption.captioner } : {}),
    VAD_CAPTION_MAX_PER_DAY: String(config.caption.maxPerDay),
    VAD_SEARCH_EXACT_MAX_FRAMES: String(config.search.exactMaxFrames),
    VAD_SEARCH_CACHE_MB: String(Math.ceil(config.search.cacheBytes / 1024 / 1024)),
    VAD_SEARCH_INDEX: config.search.index,
    VAD_API_HOST: config.api.host,
    VAD_API_PORT: String(config.api.port),
    VAD_API_TOKENS: config.api.tokens.map((t) => `${t.name}:${t.scope}:${t.sha256}`).join(','),
    VAD_UPLOAD_MAX_MB: String(Math.ceil(config.api.uploadMaxBytes / 1024 / 1024)),
  };
}
