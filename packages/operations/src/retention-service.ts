import { realpath, rm, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Config, Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import { QUEUE_NAMES, type Queues } from '@vad/queue';
import type { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';

export interface RetentionResult {
  jobsRemoved: number;
  embeddings: { videos: number; rows: number };
  thumbnailsRemoved: number;
  videosRemoved: number;
  sourcesRemoved: number;
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

    logger.info({ ...result }, 'retention done');
    return result;
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
