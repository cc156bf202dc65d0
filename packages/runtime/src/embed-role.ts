import { ImageBatcher, resolveModelPaths } from '@vad/clip';
import type { Config, Logger } from '@vad/config';
import type { RunningWorker } from '@vad/queue';
import { EmbedService } from '@vad/stages';
import { SegmentStore } from '@vad/storage';
import { configuredModel } from './model.js';
import { openRoleResources } from './role-resources.js';
import { type RoleOptions, startStageWorker } from './stage-worker.js';

export interface EmbedWorker extends RunningWorker {
  batcher: ImageBatcher;
}

/**
 * The embed role: one image batcher (and its inference thread) per process,
 * shared by `VAD_EMBED_CONCURRENCY` concurrent jobs so their frames fill
 * batches together.
 */
export async function startEmbedWorker(
  config: Config,
  logger: Logger,
  options: RoleOptions = {},
): Promise<EmbedWorker> {
  const model = config.models.model;
  const spec = configuredModel(config);
  const paths = resolveModelPaths(config.models.dir, model, spec, ['image']);
  if (spec.synthetic) logger.warn({ model }, `model ${model} is a synthetic test/benchmark model, not CLIP`);
  const batcher = await ImageBatcher.start({
    modelPath: paths.image,
    provider: config.embed.provider,
    threads: config.embed.threads,
    graphOptimization: config.embed.graphOptimization,
    inputSize: spec.inputSize,
    mean: spec.mean,
    std: spec.std,
    names: spec.tensors.image,
    embeddingSize: spec.embeddingSize,
    batchSize: config.embed.batchSize,
    maxWaitMs: config.embed.batchWaitMs,
    parallelRuns: config.embed.parallelRuns,
    model,
  });
  if (batcher.notice) logger.warn({ model, preprocessing: batcher.preprocessing }, batcher.notice);
  if (batcher.ready.fallback) {
    logger.warn({ reason: batcher.ready.fallback }, 'CUDA is not available: running the image encoder on the CPU');
  }

  const resources = openRoleResources(config, 'embed', config.embed.concurrency + 1, logger);
  const { repos, connection } = resources;
  const service = new EmbedService({
    repos,
    segments: new SegmentStore(config.storage.root),
    embedder: {
      model,
      inputSize: spec.inputSize,
      embed: (rgb, frames, onBatch) => batcher.embed(rgb, frames, onBatch),
    },
    logger,
    dtype: config.embed.dtype,
  });
  const worker = startStageWorker(
    {
      queue: 'embed',
      handle: (data, context) => service.embed(data, context),
      onFinalFailure: (data, reason) =>
        repos.videos.markFailed(data.videoId, `embedding segment ${data.segmentIndex} failed: ${reason}`),
    },
    {
      ...options,
      config,
      connection,
      logger,
      databaseWatch: resources.databaseWatch,
      concurrency: config.embed.concurrency,
    },
  );
  logger.info(
    { model, provider: batcher.provider, batchSize: batcher.batchSize, concurrency: config.embed.concurrency },
    'embed worker started',
  );

  return {
    batcher,
    async close() {
      // Embed jobs are short: let the running ones finish rather than hand them back.
      await worker.close();
      await batcher.close();
      await resources.close();
      logger.info('embed worker stopped');
    },
  };
}
