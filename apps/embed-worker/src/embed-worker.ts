import { getModelSpec, ImageBatcher, resolveModelPaths } from '@vad/clip';
import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories } from '@vad/db';
import { createJobProcessor, EmbedService, processingGate } from '@vad/pipeline';
import { createRedisConnection, createWorker, type RunningWorker } from '@vad/queue';
import { SegmentStore } from '@vad/storage';

export interface EmbedWorker extends RunningWorker {
  batcher: ImageBatcher;
}

/**
 * Wires the embed service to the `embed` queue: one image batcher (and its
 * inference thread) per process, shared by `VAD_EMBED_CONCURRENCY` concurrent
 * jobs so their frames fill batches together.
 */
export async function startEmbedWorker(config: Config, logger: Logger): Promise<EmbedWorker> {
  const model = config.models.model;
  const spec = getModelSpec(model);
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
  });
  if (batcher.ready.fallback) {
    logger.warn({ reason: batcher.ready.fallback }, 'CUDA is not available: running the image encoder on the CPU');
  }

  const database = createDatabase(config.database.url, {
    max: config.embed.concurrency + 1,
    applicationName: 'vad-embed',
  });
  const repos = createRepositories(database.db);
  const connection = createRedisConnection(config.redis.url, 'worker');
  const service = new EmbedService({
    repos,
    segments: new SegmentStore(config.storage.root),
    embedder: {
      model,
      inputSize: spec.inputSize,
      embed: (rgb, frames, onBatch) => batcher.embed(rgb, frames, onBatch),
    },
    logger,
  });
  const processor = createJobProcessor(
    {
      queue: 'embed',
      handle: (data, context) => service.embed(data, context),
      onFinalFailure: (data, reason) =>
        repos.videos.markFailed(data.videoId, `embedding segment ${data.segmentIndex} failed: ${reason}`),
    },
    logger,
    { gate: processingGate(config) },
  );
  const worker = createWorker('embed', processor, config, connection, { concurrency: config.embed.concurrency });
  worker.on('error', (error) => logger.error({ err: error }, 'embed worker error'));
  void worker.run();
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
      await database.close();
      connection.disconnect();
      logger.info('embed worker stopped');
    },
  };
}
