import { and, asc, count, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { dayHintsOf, readOnRunDays, suggestRunDays } from '../day-hints.js';
import { videoDay } from '../partitions.js';
import { cameraNormalFeatures, clipScores, eventReviews, scoringRuns, type Video, videos } from '../schema.js';
import { fromBytes, toBytes } from './embedding-bytes.js';

/** Why a clip is in a camera's normal memory. */
export const NORMAL_SOURCES = ['normal-video', 'false-alarm', 'history'] as const;
export type NormalSource = (typeof NORMAL_SOURCES)[number];

export interface NormalFeatureInput {
  videoId: string | null;
  clipIndex: number;
  source: NormalSource;
  /** A clip feature (float32, unit length). */
  feature: Float32Array;
}

export interface NormalFeatureRow extends NormalFeatureInput {
  id: number;
  createdAt: Date;
}

/** A camera's video, as learning and calibration read it. */
export type CameraVideo = Pick<
  Video,
  | 'id'
  | 'model'
  | 'pipelineConfig'
  | 'recordedAt'
  | 'createdAt'
  | 'durationMs'
  | 'status'
  | 'embeddingsRemovedAt'
  | 'currentRunId'
>;

export interface CameraVideoQuery {
  /** These videos only (of the camera: others are not returned). */
  ids?: readonly string[] | undefined;
  /** Recorded at or after / before (the time it was added when the recording time is unknown). */
  since?: Date | undefined;
  until?: Date | undefined;
}

/** A reviewed span of one of the camera's videos. */
export interface CameraReviewSpan {
  videoId: string;
  startMs: number;
  endMs: number;
}

/** A video's current clip scores (smoothed, as saved), for calibrating the camera's threshold. */
export interface VideoClipScores {
  videoId: string;
  durationMs: number | null;
  /** The scoring mode and event threshold its current run was made with. */
  mode: string;
  threshold: number | null;
  clips: { clipIndex: number; startMs: number; endMs: number; score: number; label: string }[];
}

const BATCH = 1000;

/** When a video was recorded, or added when that is unknown: what since/until filter on. */
const videoTime = sql`coalesce(${videos.recordedAt}, ${videos.createdAt})`;

/**
 * Each camera's memory of normal clip features (per model), and what
 * learning it and calibrating the camera's threshold read: the camera's
 * videos, its reviewed spans, and the clip scores of its current runs.
 */
export class NormalMemoryRepository {
  constructor(private readonly db: Database) {}

  /** Adds features to a camera's memory; a clip already there (same video and clip) gets the new feature and source. */
  async add(cameraId: number, model: string, rows: readonly NormalFeatureInput[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      await this.db
        .insert(cameraNormalFeatures)
        .values(rows.slice(i, i + BATCH).map((r) => this.values(cameraId, model, r)))
        .onConflictDoUpdate({
          target: [
            cameraNormalFeatures.cameraId,
            cameraNormalFeatures.model,
            cameraNormalFeatures.videoId,
            cameraNormalFeatures.clipIndex,
          ],
          set: { source: sql`excluded.source`, feature: sql`excluded.feature`, dtype: sql`excluded.dtype` },
        });
    }
  }

  /**
   * Replaces a camera's memory for each model given with its rows, in one
   * transaction (after removing, with `clear`, the camera's whole memory, or
   * its features of one source): it is either all the new memory or, on
   * failure, all the old one.
   */
  async replace(
    cameraId: number,
    memories: readonly { model: string; rows: readonly NormalFeatureInput[] }[],
    clear?: { source?: NormalSource | undefined },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (clear) {
        await tx
          .delete(cameraNormalFeatures)
          .where(
            and(
              eq(cameraNormalFeatures.cameraId, cameraId),
              clear.source ? eq(cameraNormalFeatures.source, clear.source) : undefined,
            ),
          );
      }
      for (const { model, rows } of memories) {
        await tx
          .delete(cameraNormalFeatures)
          .where(and(eq(cameraNormalFeatures.cameraId, cameraId), eq(cameraNormalFeatures.model, model)));
        for (let i = 0; i < rows.length; i += BATCH) {
          await tx
            .insert(cameraNormalFeatures)
            .values(rows.slice(i, i + BATCH).map((r) => this.values(cameraId, model, r)));
        }
      }
    });
  }

  /** A camera's memory for a model, in the order it was stored. */
  async load(cameraId: number, model: string): Promise<NormalFeatureRow[]> {
    const rows = await this.db
      .select({
        id: cameraNormalFeatures.id,
        videoId: cameraNormalFeatures.videoId,
        clipIndex: cameraNormalFeatures.clipIndex,
        source: cameraNormalFeatures.source,
        feature: cameraNormalFeatures.feature,
        createdAt: cameraNormalFeatures.createdAt,
      })
      .from(cameraNormalFeatures)
      .where(and(eq(cameraNormalFeatures.cameraId, cameraId), eq(cameraNormalFeatures.model, model)))
      .orderBy(asc(cameraNormalFeatures.id));
    return rows.map((r) => ({ ...r, source: r.source as NormalSource, feature: fromBytes(r.feature) }));
  }

  /** How many features a camera's memory holds, by model and source. */
  async counts(cameraId: number): Promise<{ model: string; source: NormalSource; count: number }[]> {
    const rows = await this.db
      .select({ model: cameraNormalFeatures.model, source: cameraNormalFeatures.source, count: count() })
      .from(cameraNormalFeatures)
      .where(eq(cameraNormalFeatures.cameraId, cameraId))
      .groupBy(cameraNormalFeatures.model, cameraNormalFeatures.source)
      .orderBy(cameraNormalFeatures.model, cameraNormalFeatures.source);
    return rows.map((r) => ({ ...r, source: r.source as NormalSource }));
  }

  /** Removes a camera's memory (of one source, of one model, when given); returns how many features went. */
  async clear(cameraId: number, options: { source?: NormalSource | undefined; model?: string | undefined } = {}) {
    const removed = await this.db
      .delete(cameraNormalFeatures)
      .where(
        and(
          eq(cameraNormalFeatures.cameraId, cameraId),
          options.source ? eq(cameraNormalFeatures.source, options.source) : undefined,
          options.model ? eq(cameraNormalFeatures.model, options.model) : undefined,
        ),
      )
      .returning({ id: cameraNormalFeatures.id });
    return removed.length;
  }

  /** The camera's videos (all, or those asked for, or those recorded in a time range), oldest first. */
  async cameraVideos(cameraId: number, query: CameraVideoQuery = {}): Promise<CameraVideo[]> {
    if (query.ids && query.ids.length === 0) return [];
    const filters: (SQL | undefined)[] = [
      eq(videos.cameraId, cameraId),
      query.ids ? inArray(videos.id, [...query.ids]) : undefined,
      query.since ? gte(videoTime, query.since) : undefined,
      query.until ? lt(videoTime, query.until) : undefined,
    ];
    return this.db
      .select({
        id: videos.id,
        model: videos.model,
        pipelineConfig: videos.pipelineConfig,
        recordedAt: videos.recordedAt,
        createdAt: videos.createdAt,
        durationMs: videos.durationMs,
        status: videos.status,
        embeddingsRemovedAt: videos.embeddingsRemovedAt,
        currentRunId: videos.currentRunId,
      })
      .from(videos)
      .where(and(...filters))
      .orderBy(videoTime, videos.id);
  }

  /** Operators' reviewed spans with this verdict on the camera's videos (of `videoIds` only, when given), by video time and start. */
  async reviewSpans(
    cameraId: number,
    verdict: 'true' | 'false',
    videoIds?: readonly string[],
  ): Promise<CameraReviewSpan[]> {
    if (videoIds && videoIds.length === 0) return [];
    return this.db
      .select({ videoId: eventReviews.videoId, startMs: eventReviews.startMs, endMs: eventReviews.endMs })
      .from(eventReviews)
      .innerJoin(videos, eq(videos.id, eventReviews.videoId))
      .where(
        and(
          eq(videos.cameraId, cameraId),
          eq(eventReviews.verdict, verdict),
          videoIds ? inArray(eventReviews.videoId, [...videoIds]) : undefined,
        ),
      )
      .orderBy(videoTime, videos.id, eventReviews.startMs);
  }

  /**
   * The clip scores of the current run of each of the camera's videos
   * recorded in [since, until) (scored in `mode` only, when given), by video
   * and clip. A run saved before scoring modes existed counts as `prompts`.
   * Read in one snapshot: the runs first, then their clips from the
   * partitions of their days (named before planning, see day-hints.ts: only
   * those are planned and locked), from every day for runs with none there.
   */
  async recentClipScores(
    cameraId: number,
    query: { since: Date; until?: Date | undefined; mode?: string | undefined },
  ): Promise<VideoClipScores[]> {
    const mode = sql<string>`coalesce(${scoringRuns.params}->>'mode', 'prompts')`;
    const threshold = sql<number | null>`(${scoringRuns.params}->>'threshold')::float8`;
    const hints = dayHintsOf(this.db);
    return this.db.transaction(
      async (tx) => {
        const runs = await tx
          .select({
            videoId: videos.id,
            durationMs: videos.durationMs,
            mode,
            threshold,
            runId: scoringRuns.id,
            day: videoDay,
          })
          .from(videos)
          .innerJoin(scoringRuns, eq(scoringRuns.id, videos.currentRunId))
          .where(
            and(
              eq(videos.cameraId, cameraId),
              gte(videoTime, query.since),
              query.until ? lt(videoTime, query.until) : undefined,
              query.mode ? sql`${mode} = ${query.mode}` : undefined,
            ),
          )
          .orderBy(videoTime, videos.id);
        // Their videos' days, as saveRun chose them: the hints of runs this process has not seen.
        suggestRunDays(
          hints,
          runs.map((r) => [r.runId, r.day] as const),
        );
        type Clip = VideoClipScores['clips'][number] & { runId: string; day: string };
        const clipsByRun = new Map<string, Clip[]>();
        for (let i = 0; i < runs.length; i += BATCH) {
          const clips = await readOnRunDays(
            tx,
            hints,
            runs.slice(i, i + BATCH).map((r) => r.runId),
            (ids, days): Promise<Clip[]> =>
              tx
                .select({
                  runId: clipScores.scoringRunId,
                  day: sql<string>`${clipScores.recordedDay}::text`,
                  clipIndex: clipScores.clipIndex,
                  startMs: clipScores.startMs,
                  endMs: clipScores.endMs,
                  score: clipScores.anomalyScore,
                  label: clipScores.label,
                })
                .from(clipScores)
                .where(
                  and(
                    inArray(clipScores.scoringRunId, ids),
                    days === undefined ? undefined : inArray(clipScores.recordedDay, days),
                  ),
                ),
            (c) => c,
          );
          for (const c of clips) {
            const list = clipsByRun.get(c.runId);
            if (list) list.push(c);
            else clipsByRun.set(c.runId, [c]);
          }
        }
        const out: VideoClipScores[] = [];
        for (const r of runs) {
          const clips = clipsByRun.get(r.runId);
          // A run without clips: its video is left out (as the join of runs and clips left it).
          if (!clips?.length) continue;
          clips.sort((a, b) => a.clipIndex - b.clipIndex);
          out.push({
            videoId: r.videoId,
            durationMs: r.durationMs,
            mode: r.mode,
            threshold: r.threshold,
            clips: clips.map((c) => ({
              clipIndex: c.clipIndex,
              startMs: c.startMs,
              endMs: c.endMs,
              score: c.score,
              label: c.label,
            })),
          });
        }
        return out;
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  private values(cameraId: number, model: string, r: NormalFeatureInput) {
    return {
      cameraId,
      model,
      videoId: r.videoId,
      clipIndex: r.clipIndex,
      source: r.source,
      dtype: 'float32' as const,
      feature: toBytes(r.feature),
    };
  }
}
