import { realpath, rm, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Config, Logger } from '@vad/config';
import type { DroppedPartition, PartitionDrops, Repositories } from '@vad/db';
import { QUEUE_NAMES, type Queues } from '@vad/queue';
import type { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';

export interface RetentionResult {
  jobsRemoved: number;
  /** Videos whose frame embeddings were removed (by partition or row by row), and the rows deleted one by one. */
  embeddings: { videos: number; rows: number };
  thumbnailsRemoved: number;
  videosRemoved: number;
  sourcesRemoved: number;
  /**
   * Day partitions of frame_embeddings and clip_scores dropped whole, where
   * every video recorded that day (UTC) was past retention (their rows,
   * `approxRows`, are not counted in `embeddings.rows`).
   */
  partitionsDropped: DroppedPartition[];
}

export interface RetentionServiceDeps {
  config: Pick<Config, 'retention' | 'storage'>;
  repos: Pick<Repositories, 'retention'>;
  queues: Queues;
  thumbnails: ThumbnailStore;
  /** Event clips (the API's cache): they go with their video, and with their event's thumbnail. */
  clips: Pick<EventClipStore, 'deleteVideo' | 'deleteEvent'>;
  segments: SegmentStore;
  logger: Logger;
  now?: () => number;
}

const DAY_MS = 86_400_000;
const BATCH = 200;

/**
 * Deletes what is older than configured: finished job records (always, after
 * VAD_RETAIN_JOBS_DAYS), and only when configured frame embeddings, event
 * thumbnails (with the events' clips), whole videos with their scores and events, and source files
 * (only uploads, under `<storage>/uploads`; never a file registered by path
 * or a camera's own folder). Works in batches and can be run again at any time.
 *
 * frame_embeddings and clip_scores are partitioned by the UTC day of each
 * video's recording: a day whose every video is past retention is dropped
 * whole (one DROP TABLE, whatever its size), so each daily run drops the day
 * that has just expired; a day that still holds a video inside retention (or
 * unfinished) keeps its partition, and its expired videos' rows are deleted
 * in batches.
 */
export class RetentionService {
  constructor(private readonly deps: RetentionServiceDeps) {}

  async run(): Promise<RetentionResult> {
    const { config, repos, logger } = this.deps;
    const { retention } = config;
    const now = (this.deps.now ?? Date.now)();
    const before = (days: number) => new Date(now - days * DAY_MS);
    const result: RetentionResult = {
      jobsRemoved: await this.cleanJobs(retention.jobsDays * DAY_MS),
      embeddings: { videos: 0, rows: 0 },
      thumbnailsRemoved: 0,
      videosRemoved: 0,
      sourcesRemoved: 0,
      partitionsDropped: [],
    };

    if (retention.sourcesDays !== undefined) {
      const uploads = await realpath(join(config.storage.root, 'uploads')).catch(() => undefined);
      for (;;) {
        const batch = await repos.retention.sourcesBefore(before(retention.sourcesDays), BATCH);
        if (!batch.length) break;
        for (const video of batch) {
          if (uploads && (await this.isUpload(uploads, video.sourceUri))) {
            const removed = await unlink(video.sourceUri).then(
              () => true,
              (error: NodeJS.ErrnoException) => {
                // Gone already is fine; anything else is logged and the file left, never blocking the run.
                if (error.code !== 'ENOENT')
                  logger.warn({ err: error, videoId: video.id }, 'could not remove a source');
                return false;
              },
            );
            if (removed) result.sourcesRemoved += 1;
          }
          await repos.retention.markSourceRemoved(video.id);
        }
      }
    }

    if (retention.resultsDays !== undefined) {
      // Days whose every video goes now are dropped whole first: the videos' deletes then find
      // no scores or embeddings to cascade to there. The others' rows go with their videos.
      await this.dropPartitions(repos.retention.dropResultPartitions(before(retention.resultsDays)), result);
      for (;;) {
        const ids = await repos.retention.removeVideos(before(retention.resultsDays), BATCH);
        if (!ids.length) break;
        for (const id of ids) {
          await this.deps.thumbnails.deleteVideo(id);
          await this.deps.clips.deleteVideo(id);
          await this.deps.segments.deleteVideo(id);
        }
        result.videosRemoved += ids.length;
      }
    }

    if (retention.embeddingsDays !== undefined) {
      // Whole days first (a DROP of the day's partition), then the videos left, row by row.
      const dropped = await this.dropPartitions(
        repos.retention.dropEmbeddingPartitions(before(retention.embeddingsDays)),
        result,
      );
      result.embeddings.videos += dropped.reduce((n, p) => n + p.videos, 0);
      for (;;) {
        const removed = await repos.retention.removeEmbeddings(before(retention.embeddingsDays), 20);
        if (!removed.videos) break;
        result.embeddings.videos += removed.videos;
        result.embeddings.rows += removed.rows;
      }
    }

    if (retention.thumbnailsDays !== undefined) {
      let afterId = 0;
      for (;;) {
        const events = await repos.retention.thumbnailsBefore(before(retention.thumbnailsDays), afterId, BATCH);
        if (!events.length) break;
        afterId = events.at(-1)?.id ?? afterId;
        for (const event of events) {
          await rm(join(config.storage.root, event.thumbnailPath), { force: true });
          // The event's clip under the same rule: its video and run are those of its thumbnail's folders.
          const [folder, videoId, runId] = event.thumbnailPath.split(/[\\/]/);
          if (folder === 'thumbnails' && videoId && runId) await this.deps.clips.deleteEvent(videoId, runId, event.id);
        }
        // (paths are relative to the storage root, as ThumbnailStore wrote them)
        await repos.retention.clearThumbnails(events.map((e) => e.id));
        result.thumbnailsRemoved += events.length;
      }
    }

    logger.info({ ...result, partitionsDropped: result.partitionsDropped.map((p) => p.partition) }, 'retention done');
    return result;
  }

  /** Records and logs what a pass over the day partitions dropped and skipped; returns the dropped ones. */
  private async dropPartitions(pass: Promise<PartitionDrops>, result: RetentionResult): Promise<DroppedPartition[]> {
    const { dropped, skipped } = await pass;
    for (const partition of dropped) {
      this.deps.logger.info({ ...partition }, `retention: dropped partition ${partition.partition}`);
    }
    for (const { partition, reason } of skipped) {
      this.deps.logger.warn(
        { partition, reason },
        `retention: partition ${partition} not dropped, its rows are deleted one by one`,
      );
    }
    result.partitionsDropped.push(...dropped);
    return dropped;
  }

  /** Finished and failed job records older than `graceMs`, from every stage's queue. */
  private async cleanJobs(graceMs: number): Promise<number> {
    let removed = 0;
    for (const name of QUEUE_NAMES) {
      for (const state of ['completed', 'failed'] as const) {
        for (;;) {
          const ids = await this.deps.queues[name].clean(graceMs, 1000, state);
          removed += ids.length;
          if (ids.length < 1000) break;
        }
      }
    }
    return removed;
  }

  /**
   * Only uploads (files the API stored under `<storage>/uploads`) are ever
   * removed: never a file registered by path or a camera's own folder, also
   * when a link points there.
   */
  private async isUpload(uploads: string, path: string): Promise<boolean> {
    const real = await realpath(path).catch(() => undefined);
    if (!real) return false;
    const rel = relative(uploads, real);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  }
}
