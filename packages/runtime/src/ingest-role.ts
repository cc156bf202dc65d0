import type { Config, Logger } from '@vad/config';
import { createQueues, type RunningWorker } from '@vad/queue';
import { IngestService } from '@vad/stages';
import { SegmentStore } from '@vad/storage';
import { resolveFfmpegBinaries } from '@vad/video';
import { openRoleResources } from './role-resources.js';
import { startStageWorker } from './stage-worker.js';

/** The ingest role: probes and decodes videos into segments, queueing each segment's embed job. */
export function startIngestWorker(config: Config, logger: Logger): RunningWorker {
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const resources = openRoleResources(config, 'ingest', config.ingest.concurrency + 2, logger);
  const { repos, connection } = resources;
  const queues = createQueues(config, connection);
  const service = new IngestService({
    config,
    repos,
    queues,
    segments: new SegmentStore(config.storage.root),
    binaries,
    logger,
  });
  const worker = startStageWorker(
    {
      queue: 'ingest',
      handle: (data, context) => service.ingest(data, context),
      onFinalFailure: (data, reason) => repos.videos.markFailed(data.videoId, reason),
    },
    { config, connection, logger, databaseWatch: resources.databaseWatch, concurrency: config.ingest.concurrency },
  );
  logger.info(
    { concurrency: config.ingest.concurrency, ffmpeg: binaries.ffmpeg, source: binaries.source },
    'ingest worker started',
  );
  return {
    async close() {
      worker.cancelAllJobs('shutdown');
      await worker.close();
      await queues.close();
      await resources.close();
      logger.info('ingest worker stopped');
    },
  };
}
