import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories } from '@vad/db';
import { createJobProcessor, IngestService, processingGate } from '@vad/pipeline';
import { createQueues, createRedisConnection, createWorker, type RunningWorker } from '@vad/queue';
import { SegmentStore } from '@vad/storage';
import { resolveFfmpegBinaries } from '@vad/video';

/** Wires the ingest service to the `ingest` queue. */
export function startIngestWorker(config: Config, logger: Logger): RunningWorker {
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const database = createDatabase(config.database.url, {
    max: config.ingest.concurrency + 2,
    applicationName: 'vad-ingest',
  });
  const repos = createRepositories(database.db);
  const connection = createRedisConnection(config.redis.url, 'worker');
  const queues = createQueues(config, connection);
  const service = new IngestService({
    config,
    repos,
    queues,
    segments: new SegmentStore(config.storage.root),
    binaries,
    logger,
  });

  const processor = createJobProcessor(
    {
      queue: 'ingest',
      handle: (data, context) => service.ingest(data, context),
      onFinalFailure: (data, reason) => repos.videos.markFailed(data.videoId, reason),
    },
    logger,
    { gate: processingGate(config) },
  );
  const worker = createWorker('ingest', processor, config, connection, { concurrency: config.ingest.concurrency });
  worker.on('error', (error) => logger.error({ err: error }, 'ingest worker error'));
  void worker.run();
  logger.info(
    { concurrency: config.ingest.concurrency, ffmpeg: binaries.ffmpeg, source: binaries.source },
    'ingest worker started',
  );

  return {
    async close() {
      worker.cancelAllJobs('shutdown');
      await worker.close();
      await queues.close();
      await database.close();
      connection.disconnect();
      logger.info('ingest worker stopped');
    },
  };
}
