import { and, desc, eq, gte, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
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

/** Statuses on the way to `done` or `failed`. */
export const UNFINISHED: VideoStatus[] = ['queued', 'ingesting', 'embedding', 'aggregating'];

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

  /** Start of ingest: a queued video becomes ingesting; a retry finds it moved on and leaves it. Whether it moved. */
  async markIngesting(id: string): Promise<boolean> {
    const moved = await this.db
      .update(videos)
      .set({ status: 'ingesting', error: null, ingestStartedAt: sql`now()`, ...touched })
      .where(and(eq(videos.id, id), eq(videos.status, 'queued')))
      .returning({ id: videos.id });
    return moved.length > 0;
  }

  /** Fails the video unless it has failed already (its first reason stays); whether this call failed it. */
  async markFailedFirst(id: string, error: string): Promise<boolean> {
    const rows = await this.db
      .update(videos)
      .set({ status: 'failed', error, ...touched })
      .where(and(eq(videos.id, id), ne(videos.status, 'failed')))
      .returning({ id: videos.id });
    return rows.length > 0;
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

  /**
   * Videos that are not finished (queued, ingesting, embedding, aggregating)
   * and have not changed since `before`, oldest first: candidates for the
   * reconciler, which checks each one's jobs.
   */
  async listUnfinished(before: Date, limit: number): Promise<Video[]> {
    return this.db
      .select()
      .from(videos)
      .where(and(inArray(videos.status, UNFINISHED), lt(videos.updatedAt, before)))
      .orderBy(videos.updatedAt)
      .limit(limit);
  }

  /** A video found with no live job is queued again by the reconciler: counted, and waiting for ingest. */
  async requeueRecovered(id: string): Promise<void> {
    await this.db
      .update(videos)
      .set({ status: 'queued', error: null, recoveries: sql`${videos.recoveries} + 1`, ...touched })
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
  /** Videos submitted and not yet done or failed, and their footage; of those, the urgent ones. */
  async backlog(): Promise<{ videos: number; durationMs: number; urgent: { videos: number; durationMs: number } }> {
    const [row] = await this.db
      .select({
        videos: sql<number>`count(*)::int`,
        durationMs: sql<number>`coalesce(sum(${videos.durationMs}), 0)::float8`,
        urgentVideos: sql<number>`(count(*) filter (where ${videos.urgent}))::int`,
        urgentDurationMs: sql<number>`coalesce(sum(${videos.durationMs}) filter (where ${videos.urgent}), 0)::float8`,
      })
      .from(videos)
      .where(inArray(videos.status, ['queued', 'ingesting', 'embedding', 'aggregating']));
    return {
      videos: row?.videos ?? 0,
      durationMs: row?.durationMs ?? 0,
      urgent: { videos: row?.urgentVideos ?? 0, durationMs: row?.urgentDurationMs ?? 0 },
    };
  }

  /**
   * Video time finished in the last `windowMs`, and the busy time it took:
   * the length of the union of those videos' processing spans (ingest start
   * to finish, clipped to the window). Idle time — the day outside the
   * processing window, a gap between batches of uploads — does not dilute
   * the rate, and videos processed side by side are not counted twice.
   *
   * Also the least-squares line of each video's own processing time against
   * its duration (`elapsed ≈ overheadMs + msPerVideoMs × duration`; null
   * when it cannot be fitted: fewer than two videos, or all of one length),
   * and the sum of those processing times within the window: over the busy
   * time, how many videos were processed side by side on average.
   */
  async recentThroughput(windowMs: number): Promise<RecentThroughput> {
    const result = await this.db.execute<{
      videos: number;
      duration_ms: number;
      busy_ms: number;
      elapsed_ms: number;
      overhead_ms: number | null;
      ms_per_video_ms: number | null;
    }>(sql`
      with done as (
        select greatest(${videos.ingestStartedAt}, now() - make_interval(secs => ${windowMs / 1000})) as s,
               ${videos.finishedAt} as e, ${videos.durationMs}::float8 as duration_ms,
               extract(epoch from ${videos.finishedAt} - ${videos.ingestStartedAt})::float8 * 1000 as full_elapsed_ms
        from ${videos}
        where ${videos.status} = 'done' and ${videos.ingestStartedAt} is not null
          and ${videos.finishedAt} >= now() - make_interval(secs => ${windowMs / 1000})
      ), marked as (
        select s, e, case when s <= max(e) over (order by s, e rows between unbounded preceding and 1 preceding)
                          then 0 else 1 end as starts_island
        from done
      ), islands as (
        select s, e, sum(starts_island) over (order by s, e) as island from marked
      )
      select (select count(*)::int from done) as videos,
             (select coalesce(sum(duration_ms), 0)::float8 from done) as duration_ms,
             coalesce((select sum(extract(epoch from last_end - first_start) * 1000)
                       from (select min(s) as first_start, max(e) as last_end from islands group by island) spans), 0)::float8
               as busy_ms,
             (select coalesce(sum(extract(epoch from e - s) * 1000), 0)::float8 from done) as elapsed_ms,
             (select regr_intercept(full_elapsed_ms, duration_ms) from done) as overhead_ms,
             (select regr_slope(full_elapsed_ms, duration_ms) from done) as ms_per_video_ms`);
    const row = result.rows[0];
    return {
      videos: row?.videos ?? 0,
      durationMs: row?.duration_ms ?? 0,
      busyMs: row?.busy_ms ?? 0,
      elapsedMs: row?.elapsed_ms ?? 0,
      fit:
        row?.overhead_ms === null || row?.overhead_ms === undefined || row.ms_per_video_ms === null
          ? null
          : { overheadMs: row.overhead_ms, msPerVideoMs: row.ms_per_video_ms },
    };
  }
}

/** What `recentThroughput` measures (see there). */
export interface RecentThroughput {
  videos: number;
  durationMs: number;
  busyMs: number;
  /** Sum of the videos' processing spans within the window. */
  elapsedMs: number;
  /** Each video's processing time ≈ overheadMs + msPerVideoMs × its duration; null when it cannot be fitted. */
  fit: { overheadMs: number; msPerVideoMs: number } | null;
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
