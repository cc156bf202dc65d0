import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { anomalyEvents, frameEmbeddings, videos } from '../schema.js';

/** When a video stopped changing: finished, or failed (last update). */
const endedAt = sql`coalesce(${videos.finishedAt}, ${videos.updatedAt})`;
const ended = inArray(videos.status, ['done', 'failed']);

/**
 * The deletions retention makes, in batches so that a year of backlog never
 * becomes one huge transaction. Each returns what it did, for the job's
 * result and logs.
 */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** Removes the frame embeddings of up to `limit` videos that ended before `cutoff`; returns the rows removed. */
  async removeEmbeddings(cutoff: Date, limit: number): Promise<{ videos: number; rows: number }> {
    return this.db.transaction(async (tx) => {
      const chosen = await tx
        .select({ id: videos.id })
        .from(videos)
        .where(and(ended, lt(endedAt, cutoff), isNull(videos.embeddingsRemovedAt)))
        .limit(limit);
      if (!chosen.length) return { videos: 0, rows: 0 };
      const ids = chosen.map((v) => v.id);
      const removed = await tx.delete(frameEmbeddings).where(inArray(frameEmbeddings.videoId, ids));
      await tx.update(videos).set({ embeddingsRemovedAt: sql`now()` }).where(inArray(videos.id, ids));
      return { videos: ids.length, rows: removed.rowCount ?? 0 };
    });
  }

  /**
   * Up to `limit` events created before `cutoff` that still have a thumbnail,
   * in id order after `afterId`: each batch continues along the primary key
   * where the last one stopped instead of rescanning from the start.
   */
  async thumbnailsBefore(
    cutoff: Date,
    afterId: number,
    limit: number,
  ): Promise<{ id: number; thumbnailPath: string }[]> {
    const rows = await this.db
      .select({ id: anomalyEvents.id, thumbnailPath: anomalyEvents.thumbnailPath })
      .from(anomalyEvents)
      .where(
        and(gt(anomalyEvents.id, afterId), isNotNull(anomalyEvents.thumbnailPath), lt(anomalyEvents.createdAt, cutoff)),
      )
      .orderBy(asc(anomalyEvents.id))
      .limit(limit);
    return rows.map((r) => ({ id: r.id, thumbnailPath: r.thumbnailPath ?? '' }));
  }

  async clearThumbnails(eventIds: number[]): Promise<void> {
    if (eventIds.length) {
      await this.db.update(anomalyEvents).set({ thumbnailPath: null }).where(inArray(anomalyEvents.id, eventIds));
    }
  }

  /** Up to `limit` videos that ended (done or failed) before `cutoff`, whose source file has not been removed. */
  async sourcesBefore(cutoff: Date, limit: number): Promise<{ id: string; sourceUri: string }[]> {
    return this.db
      .select({ id: videos.id, sourceUri: videos.sourceUri })
      .from(videos)
      .where(and(ended, lt(endedAt, cutoff), isNull(videos.sourceRemovedAt)))
      .limit(limit);
  }

  async markSourceRemoved(videoId: string): Promise<void> {
    await this.db.update(videos).set({ sourceRemovedAt: sql`now()` }).where(eq(videos.id, videoId));
  }

  /** Deletes up to `limit` videos that ended before `cutoff`, with their scores and events (cascade). */
  async removeVideos(cutoff: Date, limit: number): Promise<string[]> {
    const chosen = await this.db
      .select({ id: videos.id })
      .from(videos)
      .where(and(ended, lt(endedAt, cutoff)))
      .limit(limit);
    if (!chosen.length) return [];
    const ids = chosen.map((v) => v.id);
    await this.db.delete(videos).where(inArray(videos.id, ids));
    return ids;
  }
}
