import type { Config, Logger } from '@vad/config';
import { createQueues, type RunningWorker } from '@vad/queue';
import { IngestService, type IngestServiceDeps } from '@vad/stages';
import { SegmentStore } from '@vad/storage';
import { resolveFfmpegBinaries, resolveHwaccel } from '@vad/video';
import { openRoleResources } from './role-resources.js';
import { type RoleOptions, startStageWorker } from './stage-worker.js';

/** What tests change in the ingest role: the segment store (a file system that fills up), the waits. */
export interface IngestWorkerOptions extends RoleOptions {
  segments?: SegmentStore;
  storageFullRetryMs?: IngestServiceDeps['storageFullRetryMs'];
}

/**
 * The ingest role: probes and decodes videos into segments, queueing each
 * segment's embed job. At start it removes temporary segment files that
 * killed ingests left behind (see `SegmentStore.removeStaleTemporaries`): only
 * those not modified for two job lock durations, so that files being written
 * by other ingest workers, on this machine or others sharing the storage, are
 * left alone.
 */
export function startIngestWorker(config: Config, logger: Logger, options: IngestWorkerOptions = {}): RunningWorker {
  const binaries = resolveFfmpegBinaries(config.ffmpeg);
  const resources = openRoleResources(config, 'ingest', config.ingest.concurrency + 2, logger);
  const { repos, connection } = resources;
  const queues = createQueues(config, connection);
  const segments = options.segments ?? new SegmentStore(config.storage.root);
  // Checked once, before the first decode: a GPU that cannot be used is a warning, and decoding goes on in software.
  const hwaccel = resolveHwaccel(binaries, config.ffmpeg.hwaccel).then((resolved) => {
    if (resolved.fallback) logger.warn({ hwaccel: config.ffmpeg.hwaccel }, resolved.fallback);
    else if (resolved.hwaccel) logger.info({ hwaccel: resolved.hwaccel }, 'decoding on the GPU (ffmpeg -hwaccel cuda)');
    return resolved.hwaccel;
  });
  const service = new IngestService({
    config,
    repos,
    queues,
    segments,
    binaries,
    hwaccel: () => hwaccel,
    logger,
    ...(options.storageFullRetryMs ? { storageFullRetryMs: options.storageFullRetryMs } : {}),
  });
  const staleAfterMs = 2 * config.queue.lockDurationMs;
  const sweep = segments.removeStaleTemporaries(staleAfterMs).then(
    (removed) => {
      if (removed > 0) logger.warn({ removed, staleAfterMs }, 'removed temporary segment files of killed ingests');
    },
    (error: unknown) => logger.warn({ err: error }, 'could not sweep temporary segment files'),
  );
  const worker = startStageWorker(
    {
      queue: 'ingest',
      handle: (data, context) => service.ingest(data, context),
      // A video another stage failed first keeps that stage's reason.
      onFinalFailure: (data, reason) => repos.videos.markFailedFirst(data.videoId, reason).then(() => {}),
    },
    {
      config,
      connection,
      logger,
      databaseWatch: resources.databaseWatch,
      concurrency: config.ingest.concurrency,
      ...(options.clock ? { clock: options.clock } : {}),
    },
  );
  logger.info(
    {
      concurrency: config.ingest.concurrency,
      ffmpeg: binaries.ffmpeg,
      ffprobe: binaries.ffprobe,
      source: binaries.source,
      version: binaries.version,
      workarounds: binaries.workarounds,
    },
    'ingest worker started',
  );
  return {
    async close() {
      worker.cancelAllJobs('shutdown');
      await worker.close();
      await sweep;
      await queues.close();
      await resources.close();
      logger.info('ingest worker stopped');
    },
  };
}
