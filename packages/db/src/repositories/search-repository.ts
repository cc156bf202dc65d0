import { and, eq, gt, isNotNull, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { anomalyEvents, cameras, videos } from '../schema.js';

/** A video whose stored frame embeddings a search compares with. */
export interface SearchableVideo {
  id: string;
  cameraId: number | null;
  camera: string | null;
  /** When the recording starts: recorded_at, else when it was submitted (as the partition day is chosen). */
  startsAt: Date;
  /** True when recorded_at is known (startsAt is then the recording's own time). */
  timeKnown: boolean;
  durationMs: number | null;
  sampleFps: number;
  sourceUri: string;
  sourceRemoved: boolean;
  /** Sampled frames decoded: the frames with an embedding, own or reused. */
  frames: number;
}

export interface SearchScope {
  model: string;
  cameraId?: number | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** Videos in a search's scope that it cannot compare with, and why. */
export interface SearchExclusions {
  /** Embedded with another model: their vectors live in another space. */
  otherModel: number;
  /** Retention removed their frame embeddings. */
  embeddingsRemoved: number;
  /** Not finished yet (queued, being processed or failed). */
  notDone: number;
}

/** The event a look-alike search starts from. */
export interface SearchEvent {
  id: number;
  videoId: string;
  peakMs: number;
  startMs: number;
  endMs: number;
  label: string;
  model: string;
  embeddingsRemovedAt: Date | null;
}

const startsAt = sql<Date>`coalesce(${videos.recordedAt}, ${videos.createdAt})`;

/** Videos of the scope's camera whose recording overlaps [since, until). */
function inScope(scope: Omit<SearchScope, 'model'>): SQL | undefined {
  return and(
    scope.cameraId === undefined ? undefined : eq(videos.cameraId, scope.cameraId),
    scope.until ? lt(startsAt, scope.until) : undefined,
    scope.since
      ? sql`${startsAt} + make_interval(secs => coalesce(${videos.durationMs}, 0) / 1000.0) >= ${scope.since}`
      : undefined,
  );
}

/** What search reads of videos and events: which videos a query compares with, and where a look-alike search starts. */
export class SearchRepository {
  constructor(private readonly db: Database) {}

  /** Videos in the scope a search of `model` leaves out, counted by reason. */
  async exclusions(scope: SearchScope): Promise<SearchExclusions> {
    const [row] = await this.db
      .select({
        otherModel: sql<number>`count(*) filter (where ${ne(videos.model, scope.model)})::int`,
        embeddingsRemoved: sql<number>`count(*) filter (where ${and(eq(videos.model, scope.model), isNotNull(videos.embeddingsRemovedAt))})::int`,
        notDone: sql<number>`count(*) filter (where ${and(eq(videos.model, scope.model), isNull(videos.embeddingsRemovedAt), ne(videos.status, 'done'))})::int`,
      })
      .from(videos)
      .where(inScope(scope));
    return {
      otherModel: row?.otherModel ?? 0,
      embeddingsRemoved: row?.embeddingsRemoved ?? 0,
      notDone: row?.notDone ?? 0,
    };
  }

  /** Finished videos of the model, in scope, whose frame embeddings are still stored; oldest first. */
  async searchableVideos(scope: SearchScope): Promise<SearchableVideo[]> {
    const rows = await this.db
      .select({
        id: videos.id,
        cameraId: videos.cameraId,
        camera: cameras.name,
        startsAt,
        recordedAt: videos.recordedAt,
        durationMs: videos.durationMs,
        pipelineConfig: videos.pipelineConfig,
        sourceUri: videos.sourceUri,
        sourceRemovedAt: videos.sourceRemovedAt,
        frames: videos.framesDecoded,
      })
      .from(videos)
      .leftJoin(cameras, eq(cameras.id, videos.cameraId))
      .where(
        and(
          eq(videos.model, scope.model),
          eq(videos.status, 'done'),
          isNull(videos.embeddingsRemovedAt),
          gt(videos.framesDecoded, 0),
          inScope(scope),
        ),
      )
      .orderBy(startsAt, videos.id);
    return rows.map((r) => ({
      id: r.id,
      cameraId: r.cameraId,
      camera: r.camera,
      startsAt: new Date(r.startsAt),
      timeKnown: r.recordedAt !== null,
      durationMs: r.durationMs,
      sampleFps: r.pipelineConfig.sampleFps,
      sourceUri: r.sourceUri,
      sourceRemoved: r.sourceRemovedAt !== null,
      frames: r.frames,
    }));
  }

  /** An event with what a look-alike search needs of its video. */
  async event(id: number): Promise<SearchEvent | undefined> {
    const [row] = await this.db
      .select({
        id: anomalyEvents.id,
        videoId: anomalyEvents.videoId,
        peakMs: anomalyEvents.peakMs,
        startMs: anomalyEvents.startMs,
        endMs: anomalyEvents.endMs,
        label: anomalyEvents.label,
        model: videos.model,
        embeddingsRemovedAt: videos.embeddingsRemovedAt,
      })
      .from(anomalyEvents)
      .innerJoin(videos, eq(videos.id, anomalyEvents.videoId))
      .where(eq(anomalyEvents.id, id));
    return row;
  }
}
