import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { cameras, type NewVideo, type Video, type VideoStatus, videos } from '../schema.js';

export interface VideoProbe {
  durationMs: number;
  fps: number | null;
  width: number;
  height: number;
  codec: string;
}

const touched = { updatedAt: sql`now()` };

export class VideoRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the video unless one with the same content and pipeline config
   * exists; either way returns the row, and whether this call created it.
   */
  async insertOrGet(values: NewVideo): Promise<{ video: Video; created: boolean }> {
    const [inserted] = await this.db.insert(videos).values(values).onConflictDoNothing().returning();
    if (inserted) return { video: inserted, created: true };
    const existing = await this.db.query.videos.findFirst({
      where: and(eq(videos.sha256, values.sha256), eq(videos.configHash, values.configHash)),
    });
    if (!existing) throw new Error(`video ${values.sha256} conflicted on insert but cannot be found`);
    return { video: existing, created: false };
  }

  async get(id: string): Promise<Video | undefined> {
    return this.db.query.videos.findFirst({ where: eq(videos.id, id) });
  }

  /** The video with its camera's name. */
  async getWithCamera(id: string): Promise<VideoListRow | undefined> {
    const [row] = await this.db
      .select({ video: videos, camera: cameras.name })
      .from(videos)
      .leftJoin(cameras, eq(cameras.id, videos.cameraId))
      .where(eq(videos.id, id));
    return row;
  }

  async listByStatus(statuses: VideoStatus[]): Promise<Video[]> {
    return this.db.select().from(videos).where(inArray(videos.status, statuses)).orderBy(videos.createdAt);
  }

  /** Videos of a camera recorded since a time (for rescoring a camera's footage). */
  async listByCamera(camera: string, since: Date | undefined): Promise<Video[]> {
    const rows = await this.db
      .select({ video: videos })
      .from(videos)
      .innerJoin(cameras, eq(cameras.id, videos.cameraId))
      .where(and(eq(cameras.name, camera), since ? gte(videos.recordedAt, since) : undefined))
      .orderBy(videos.recordedAt);
    return rows.map((r) => r.video);
  }

  /** Start (or restart, after a crash) of ingest: clears any earlier error. */
  async markIngesting(id: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'ingesting', error: null, ingestStartedAt: sql`now()`, ...touched })
      .where(eq(videos.id, id));
  }

  async saveProbe(id: string, probe: VideoProbe): Promise<void> {
    await this.db
      .update(videos)
      .set({ ...probe, ...touched })
      .where(eq(videos.id, id));
  }

  async recordIngestProgress(id: string, framesDecoded: number, segmentsWritten: number): Promise<void> {
    await this.db
      .update(videos)
      .set({ framesDecoded, segmentsWritten, ...touched })
      .where(eq(videos.id, id));
  }

  /** Decoding finished: every segment is written and queued; the video now waits on embedding. */
  async markIngested(id: string, framesDecoded: number, segmentsWritten: number): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'embedding', framesDecoded, segmentsWritten, ingestFinishedAt: sql`now()`, ...touched })
      .where(and(eq(videos.id, id), eq(videos.status, 'ingesting')));
  }

  /** Removes the video and, by cascade, its embeddings, scores and events. */
  async delete(id: string): Promise<boolean> {
    const deleted = await this.db.delete(videos).where(eq(videos.id, id)).returning({ id: videos.id });
    return deleted.length > 0;
  }

  async markAggregating(id: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'aggregating', ...touched })
      .where(eq(videos.id, id));
  }

  /** A failed video queued again: it waits for ingest as a new one would. */
  async requeue(id: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'queued', error: null, embeddingsRemovedAt: null, ...touched })
      .where(eq(videos.id, id));
  }

  /** A rescore that failed leaves the video done, with its earlier results. */
  async restoreDone(id: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'done', ...touched })
      .where(and(eq(videos.id, id), eq(videos.status, 'aggregating')));
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'failed', error, ...touched })
      .where(eq(videos.id, id));
  }

  /**
   * Videos, newest submitted first, `limit` of them after the keyset `after`
   * (the previous page's last created_at and id).
   */
  async list(query: VideoListQuery): Promise<VideoPageRow[]> {
    const { camera, status, since, after, limit } = query;
    return this.db
      .select({
        video: videos,
        camera: cameras.name,
        // Postgres keeps microseconds, a JS Date milliseconds: the keyset carries the exact value.
        createdAtKey: sql<string>`${videos.createdAt}::text`,
      })
      .from(videos)
      .leftJoin(cameras, eq(cameras.id, videos.cameraId))
      .where(
        and(
          camera ? eq(cameras.name, camera) : undefined,
          status ? eq(videos.status, status) : undefined,
          since ? gte(videos.recordedAt, since) : undefined,
          after
            ? sql`(${videos.createdAt}, ${videos.id}) < (${after.createdAtKey}::timestamptz, ${after.id}::uuid)`
            : undefined,
        ),
      )
      .orderBy(desc(videos.createdAt), desc(videos.id))
      .limit(limit);
  }

  /** Videos of the camera (or without one, for null) still waiting for ingest: the fair-share rank of the next. */
  async countWaiting(cameraId: number | null): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(videos)
      .where(
        and(eq(videos.status, 'queued'), cameraId === null ? isNull(videos.cameraId) : eq(videos.cameraId, cameraId)),
      );
    return row?.n ?? 0;
  }

  /** A video already submitted from this path with this size (the watch folder's restart check). */
  async findBySource(sourceUri: string, bytes: number): Promise<Video | undefined> {
    return this.db.query.videos.findFirst({
      where: and(eq(videos.sourceUri, sourceUri), eq(videos.bytes, bytes)),
    });
  }

  /** Videos not yet done or failed, and their total duration: the work still ahead. */
  async backlog(): Promise<{ videos: number; durationMs: number }> {
    const [row] = await this.db
      .select({
        videos: sql<number>`count(*)::int`,
        durationMs: sql<number>`coalesce(sum(${videos.durationMs}), 0)::float8`,
      })
      .from(videos)
      .where(inArray(videos.status, ['queued', 'ingesting', 'embedding', 'aggregating']));
    return row ?? { videos: 0, durationMs: 0 };
  }

  /**
   * Video time finished in the last `windowMs`, and the busy time it took:
   * from the window's start, or from when the first of those videos started
   * if that was later (workers that just started are not diluted by idle time).
   */
  async recentThroughput(windowMs: number): Promise<{ videos: number; durationMs: number; busyMs: number }> {
    const since = sql`now() - make_interval(secs => ${windowMs / 1000})`;
    const [row] = await this.db
      .select({
        videos: sql<number>`count(*)::int`,
        durationMs: sql<number>`coalesce(sum(${videos.durationMs}), 0)::float8`,
        busyMs: sql<number>`coalesce(extract(epoch from now() - greatest(min(${videos.ingestStartedAt}), ${since})) * 1000, 0)::float8`,
      })
      .from(videos)
      .where(and(eq(videos.status, 'done'), gte(videos.finishedAt, since)));
    return row ?? { videos: 0, durationMs: 0, busyMs: 0 };
  }
}

export interface VideoListQuery {
  camera?: string | undefined;
  status?: VideoStatus | undefined;
  /** Recorded at or after. */
  since?: Date | undefined;
  /** The previous page's last row: its `createdAtKey` and id. */
  after?: { createdAtKey: string; id: string } | undefined;
  limit: number;
}

export interface VideoListRow {
  video: Video;
  camera: string | null;
}

export interface VideoPageRow extends VideoListRow {
  /** created_at as Postgres text, to microseconds: the keyset for the next page. */
  createdAtKey: string;
}
