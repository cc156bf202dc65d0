import { stat } from 'node:fs/promises';
import { ImageCaptioner } from '@vad/caption';
import { headFile, LearnedHead, ModelCapabilityError, resolveModelSpec, TemporalHead } from '@vad/clip';
import type { Config, Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import { childFailures, createQueues, type RunningWorker, UnrecoverableError } from '@vad/queue';
import { AggregateService, CaptionService } from '@vad/stages';
import { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
import { extractFrameAt, resolveFfmpegBinaries } from '@vad/video';
import type { Job } from 'bullmq';
import { openRoleResources } from './role-resources.js';
import { type RoleOptions, startStageWorker } from './stage-worker.js';
import { sessionOptionsOf, TextEncoders } from './text-encoders.js';

export interface AggregateServiceHandle {
  service: AggregateService;
  /** The caption stage, when VAD_CAPTIONER names a captioner. */
  captions: CaptionService | undefined;
  /** Releases the text encoders loaded so far. */
  close(): Promise<void>;
}

/** The aggregate service with its text encoders (loaded once per model, on first use), thumbnails and ffmpeg. */
export function createAggregateService(config: Config, repos: Repositories, logger: Logger): AggregateServiceHandle {
  const encoders = new TextEncoders(config);
  let head: Promise<TemporalHead> | undefined;
  const learnedHeads = learnedHeadCache(config.models.dir, config.embed.threads);
  const sessionOptions = sessionOptionsOf(config);
  const specOf = (model: string) => resolveModelSpec(model, config.models.dir);
  const service = new AggregateService({
    config,
    repos,
    promptEncoder: (model) =>
      encoders.get(model).catch((error: unknown) => {
        // An image-only model never scores prompts: fail the job at once, no retries.
        if (error instanceof ModelCapabilityError) throw new UnrecoverableError(error.message);
        throw error;
      }),
    logitScale: (model) => specOf(model).logitScale,
    temporalHead: () => {
      const path = config.scoring.temporalHead;
      if (!path)
        return Promise.reject(
          new UnrecoverableError('aggregator onnx needs VAD_TEMPORAL_HEAD on the aggregate workers'),
        );
      if (!head) {
        const loading = TemporalHead.load(path, sessionOptions);
        // A head that failed to load is tried again by the next job, not remembered as failed.
        loading.catch(() => {
          if (head === loading) head = undefined;
        });
        head = loading;
      }
      return head;
    },
    learnedHead: (ref) => learnedHeads.get(ref),
    thumbnails: new ThumbnailStore(config.storage.root),
    clips: new EventClipStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    binaries: resolveFfmpegBinaries(config.ffmpeg),
    logger,
  });
  const captions = createCaptionService(config, repos, logger);
  return {
    service,
    captions: captions?.service,
    async close() {
      await captions?.close();
      await encoders.close();
      await head?.then((h) => h.close()).catch(() => {});
      await learnedHeads.close();
    },
  };
}

/** The caption stage on the configured captioner (loaded on first use), or undefined when VAD_CAPTIONER is unset. */
export function createCaptionService(
  config: Config,
  repos: Repositories,
  logger: Logger,
): { service: CaptionService; close(): Promise<void> } | undefined {
  const name = config.caption.captioner;
  if (!name) return undefined;
  let captioner: Promise<ImageCaptioner> | undefined;
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const service = new CaptionService({
    repos,
    captioner: () => {
      if (!captioner) {
        const loading = ImageCaptioner.load(config.models.dir, name, sessionOptionsOf(config));
        loading.catch(() => {
          if (captioner === loading) captioner = undefined;
        });
        captioner = loading;
      }
      return captioner;
    },
    frameAt: (path, timeMs) => extractFrameAt(path, timeMs, binaries),
    storageRoot: config.storage.root,
    maxPerDay: config.caption.maxPerDay,
    logger,
  });
  return {
    service,
    async close() {
      await captioner?.then((c) => c.close()).catch(() => {});
    },
  };
}

/**
 * Learned heads (mode `learned`) loaded once per file and kept, by name
 * (`<model dir>/heads/NAME.onnx`) or path. A file replaced since it was
 * loaded (another `vad train --out NAME --force`) is loaded again, so a run
 * is always scored by the head whose sha256 it records.
 */
function learnedHeadCache(modelDir: string, threads: number) {
  const loaded = new Map<string, { head: Promise<LearnedHead>; stamp: string }>();
  const replaced: Promise<LearnedHead>[] = [];
  return {
    async get(ref: { name: string } | { path: string }): Promise<LearnedHead> {
      const file = 'name' in ref ? headFile(modelDir, ref.name) : ref.path;
      const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          error.code === 'ENOENT'
            ? 'name' in ref
              ? `no head named ${ref.name} in ${modelDir}/heads (vad train --out NAME, or vad rescore --head FILE)`
              : `no such file ${file}`
            : error.message,
        );
      });
      const stamp = `${info.size}:${info.mtimeMs}`;
      const cached = loaded.get(file);
      if (cached?.stamp === stamp) return cached.head;
      if (cached) replaced.push(cached.head);
      const loading = LearnedHead.load(file, { threads: threads || 1 });
      // A head that failed to load is tried again by the next job, not remembered as failed.
      loading.catch(() => {
        if (loaded.get(file)?.head === loading) loaded.delete(file);
      });
      loaded.set(file, { head: loading, stamp });
      return loading;
    },
    async close(): Promise<void> {
      for (const head of [...replaced, ...[...loaded.values()].map((l) => l.head)])
        await head.then((h) => h.close()).catch(() => {});
    },
  };
}

/** The aggregate role: scores a video once its ingest and embeds are done, and runs rescores. */
export function startAggregateWorker(config: Config, logger: Logger, options: RoleOptions = {}): RunningWorker {
  const resources = openRoleResources(config, 'aggregate', 3, logger);
  const { repos, connection } = resources;
  const queues = createQueues(config, connection);
  const { service, captions, close: closeService } = createAggregateService(config, repos, logger);
  const worker = startStageWorker(
    {
      queue: 'aggregate',
      handle: async (data, context) => {
        const result = await service.aggregate(data, context);
        // The caption stage: the new run's events, within the day's budget; it never fails the video.
        if (captions && result.events > 0) {
          const captioned = await captions
            .captionEvents({ runId: result.runId })
            .catch((error: unknown) => logger.warn({ err: error, runId: result.runId }, 'caption stage failed'));
          if (captioned) return { ...result, captions: captioned.captioned };
        }
        return result;
      },
      onFinalFailure: (data, reason) => service.recordFailure(data, reason),
    },
    { ...options, config, connection, logger, databaseWatch: resources.databaseWatch, concurrency: 1 },
  );
  // A video whose ingest or embed job failed for good fails its aggregate job without running it
  // (BullMQ's deferred failure): record the child's own reason on the video, unless it is there already.
  const recordChildFailure = async (job: Job) => {
    const [failure] = await childFailures(job, queues);
    const videoId = (job.data as { videoId: string }).videoId;
    const video = await repos.videos.get(videoId);
    if (!video || video.status === 'failed') return;
    const reason = failure ? `${failure.queue} failed: ${failure.reason}` : (job.failedReason ?? 'a stage failed');
    await repos.videos.markFailed(video.id, reason);
  };
  const recording = new Set<Promise<void>>();
  worker.on('failed', (job) => {
    if (!job?.deferredFailure) return;
    const task = recordChildFailure(job)
      .catch((error: unknown) => logger.error({ err: error, jobId: job.id }, 'could not record why the video failed'))
      .finally(() => recording.delete(task));
    recording.add(task);
  });
  logger.info(
    { aggregator: config.scoring.aggregator, threshold: config.scoring.threshold },
    'aggregate worker started',
  );
  return {
    async close() {
      worker.cancelAllJobs('shutdown');
      await worker.close();
      await Promise.all(recording);
      await closeService();
      await queues.close();
      await resources.close();
      logger.info('aggregate worker stopped');
    },
  };
}
