import { ClipTextEncoder, getModelSpec, ModelCapabilityError, resolveModelPaths, TemporalHead } from '@vad/clip';
import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories, type Repositories } from '@vad/db';
import { AggregateService, createJobProcessor, processingGate } from '@vad/pipeline';
import { createRedisConnection, createWorker, type RunningWorker, UnrecoverableError } from '@vad/queue';
import { ThumbnailStore } from '@vad/storage';
import { resolveFfmpegBinaries } from '@vad/video';

export interface AggregateServiceHandle {
  service: AggregateService;
  /** Releases the text encoders loaded so far. */
  close(): Promise<void>;
}

/** The aggregate service with its text encoders (loaded once per model, on first use), thumbnails and ffmpeg. */
export function createAggregateService(config: Config, repos: Repositories, logger: Logger): AggregateServiceHandle {
  const encoders = new Map<string, Promise<ClipTextEncoder>>();
  let head: Promise<TemporalHead> | undefined;
  const sessionOptions = {
    provider: config.embed.provider,
    threads: config.embed.threads,
    graphOptimization: config.embed.graphOptimization,
  };
  const service = new AggregateService({
    config,
    repos,
    promptEncoder: (model) => {
      let encoder = encoders.get(model);
      if (!encoder) {
        const spec = getModelSpec(model);
        encoder = Promise.resolve()
          .then(() =>
            ClipTextEncoder.load(resolveModelPaths(config.models.dir, model, spec, ['text']), spec, sessionOptions),
          )
          .catch((error: unknown) => {
            // An image-only model never scores prompts: fail the job at once, no retries.
            if (error instanceof ModelCapabilityError) throw new UnrecoverableError(error.message);
            throw error;
          });
        encoder.catch(() => encoders.delete(model));
        encoders.set(model, encoder);
      }
      return encoder;
    },
    logitScale: (model) => getModelSpec(model).logitScale,
    temporalHead: () => {
      const path = config.scoring.temporalHead;
      if (!path) return Promise.reject(new Error('VAD_TEMPORAL_HEAD is not set'));
      head ??= TemporalHead.load(path, sessionOptions);
      return head;
    },
    thumbnails: new ThumbnailStore(config.storage.root),
    binaries: resolveFfmpegBinaries(config.ffmpeg),
    logger,
  });
  return {
    service,
    async close() {
      for (const encoder of encoders.values()) await encoder.then((e) => e.close()).catch(() => {});
      await head?.then((h) => h.close()).catch(() => {});
    },
  };
}

/** Wires the aggregate service to the `aggregate` queue (jobs run once a video's ingest and embeds are done). */
export function startAggregateWorker(config: Config, logger: Logger): RunningWorker {
  const database = createDatabase(config.database.url, { max: 3, applicationName: 'vad-aggregate' });
  const repos = createRepositories(database.db);
  const connection = createRedisConnection(config.redis.url, 'worker');
  const { service, close: closeService } = createAggregateService(config, repos, logger);
  const processor = createJobProcessor(
    {
      queue: 'aggregate',
      handle: (data, context) => service.aggregate(data, context),
      // A failed rescore (it carries its settings) keeps the video's earlier results.
      onFinalFailure: (data, reason) =>
        data.scoring
          ? repos.videos.restoreDone(data.videoId)
          : repos.videos.markFailed(data.videoId, `scoring failed: ${reason}`),
    },
    logger,
    { gate: processingGate(config) },
  );
  const worker = createWorker('aggregate', processor, config, connection, { concurrency: 1 });
  worker.on('error', (error) => logger.error({ err: error }, 'aggregate worker error'));
  // A parent failed because a child failed for good: record it on the video too.
  worker.on('failed', (job, error) => {
    if (job && error.message.startsWith('child ')) {
      void repos.videos.get(job.data.videoId).then((video) => {
        if (video && video.status !== 'failed') return repos.videos.markFailed(video.id, error.message);
      });
    }
  });
  void worker.run();
  logger.info(
    { aggregator: config.scoring.aggregator, threshold: config.scoring.threshold },
    'aggregate worker started',
  );
  return {
    async close() {
      worker.cancelAllJobs('shutdown');
      await worker.close();
      await closeService();
      await database.close();
      connection.disconnect();
      logger.info('aggregate worker stopped');
    },
  };
}
