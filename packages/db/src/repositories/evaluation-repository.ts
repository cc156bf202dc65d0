import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { dayHintsOf, readOnRunDays } from '../day-hints.js';
import { anomalyEvents, cameras, clipScores, scoringRuns, type VideoStatus, videos } from '../schema.js';

/** A video as evaluation sees it: where it came from, its length and frame rate, its current run. */
export interface EvaluationVideoRow {
  id: string;
  sourceUri: string;
  camera: string | null;
  durationMs: number | null;
  fps: number | null;
  status: VideoStatus;
  currentRunId: string | null;
}

export interface EvaluationRunRow {
  id: string;
  videoId: string;
  model: string;
  promptSet: string;
  aggregator: string;
  params: Record<string, unknown>;
  configHash: string;
  createdAt: Date;
}

/** A run's clips in clip order, as arrays (one row per run, not one object per clip). */
export interface ClipSeriesRow {
  runId: string;
  startMs: number[];
  endMs: number[];
  scores: number[];
}

export interface EventSpanRow {
  runId: string;
  startMs: number;
  endMs: number;
  peakScore: number;
}

/** Ids per statement: well under PostgreSQL's 65535 parameters, and a bounded result per query. */
const BATCH = 500;

function batches<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What `select` needs: the database, or a transaction on it. */
type Reader = Pick<Database, 'select'>;

/**
 * Read-only queries for `vad eval`: the videos to match annotations to,
 * the scoring run to evaluate of each, its clip scores and events. Every
 * query reads by primary key or an index (videos by camera, scoring_runs
 * by (video, config hash), clip_scores by (run, clip), anomaly_events by run).
 */
export class EvaluationRepository {
  /** The database to open snapshots on; null inside one. */
  private readonly root: Database | null;
  /** What the day hints are kept under: the database handle (inside a snapshot too). */
  private hintKey: object;

  constructor(db: Database);
  constructor(db: Reader, root: null);
  constructor(
    private readonly db: Reader,
    root?: null,
  ) {
    this.root = root === null ? null : (db as Database);
    this.hintKey = db;
  }

  /**
   * Runs `read` in one REPEATABLE READ, READ ONLY transaction: every query
   * sees the same snapshot (a rescore committing meanwhile changes nothing
   * halfway), and PostgreSQL refuses any write.
   */
  async snapshot<T>(read: (reader: EvaluationRepository) => Promise<T>): Promise<T> {
    const root = this.root;
    if (!root) return read(this);
    return root.transaction(
      (tx) => {
        const inner = new EvaluationRepository(tx, null);
        inner.hintKey = this.hintKey;
        return read(inner);
      },
      {
        isolationLevel: 'repeatable read',
        accessMode: 'read only',
      },
    );
  }

  async cameraExists(name: string): Promise<boolean> {
    const rows = await this.db.select({ id: cameras.id }).from(cameras).where(eq(cameras.name, name));
    return rows.length > 0;
  }

  /** Every video, or a camera's. */
  async listVideos(camera?: string): Promise<EvaluationVideoRow[]> {
    const columns = {
      id: videos.id,
      sourceUri: videos.sourceUri,
      camera: cameras.name,
      durationMs: videos.durationMs,
      fps: videos.fps,
      status: videos.status,
      currentRunId: videos.currentRunId,
    };
    return camera
      ? this.db
          .select(columns)
          .from(videos)
          .innerJoin(cameras, eq(cameras.id, videos.cameraId))
          .where(eq(cameras.name, camera))
      : this.db.select(columns).from(videos).leftJoin(cameras, eq(cameras.id, videos.cameraId));
  }

  /**
   * The run of each video: its current one (videos.current_run_id), or the
   * one of that scoring config hash. Videos without one are left out.
   */
  async runsOf(videoIds: readonly string[], configHash?: string): Promise<EvaluationRunRow[]> {
    const out: EvaluationRunRow[] = [];
    for (const ids of batches(videoIds)) {
      const rows = configHash
        ? await this.db
            .select()
            .from(scoringRuns)
            .where(and(inArray(scoringRuns.videoId, ids), eq(scoringRuns.configHash, configHash)))
        : (
            await this.db
              .select({ run: scoringRuns })
              .from(videos)
              .innerJoin(scoringRuns, eq(scoringRuns.id, videos.currentRunId))
              .where(inArray(videos.id, ids))
          ).map((r) => r.run);
      out.push(...rows);
    }
    return out;
  }

  /**
   * Each run's clip times and scores in clip order, aggregated into arrays in
   * PostgreSQL. Read from the partitions of the runs' days (see
   * day-hints.ts: named before planning, so that only those are planned and
   * locked), and from every day for the runs with nothing there.
   */
  async clipSeries(runIds: readonly string[]): Promise<ClipSeriesRow[]> {
    const out: ClipSeriesRow[] = [];
    const hints = dayHintsOf(this.hintKey);
    for (const batch of batches(runIds, 100)) {
      const rows = await readOnRunDays(
        this.db,
        hints,
        batch,
        (ids, days) =>
          this.db
            .select({
              runId: clipScores.scoringRunId,
              startMs: sql<number[]>`array_agg(${clipScores.startMs} order by ${clipScores.clipIndex})`,
              endMs: sql<number[]>`array_agg(${clipScores.endMs} order by ${clipScores.clipIndex})`,
              scores: sql<number[]>`array_agg(${clipScores.anomalyScore} order by ${clipScores.clipIndex})`,
              // A run's clips are all on one day.
              day: sql<string>`min(${clipScores.recordedDay})::text`,
            })
            .from(clipScores)
            .where(
              and(
                inArray(clipScores.scoringRunId, ids),
                days === undefined ? undefined : inArray(clipScores.recordedDay, days),
              ),
            )
            .groupBy(clipScores.scoringRunId),
        (r) => r,
      );
      out.push(...rows.map((r) => ({ runId: r.runId, startMs: r.startMs, endMs: r.endMs, scores: r.scores })));
    }
    return out;
  }

  /** The runs' events (start, end, peak score). */
  async eventSpans(runIds: readonly string[]): Promise<EventSpanRow[]> {
    const out: EventSpanRow[] = [];
    for (const ids of batches(runIds)) {
      out.push(
        ...(await this.db
          .select({
            runId: anomalyEvents.scoringRunId,
            startMs: anomalyEvents.startMs,
            endMs: anomalyEvents.endMs,
            peakScore: anomalyEvents.peakScore,
          })
          .from(anomalyEvents)
          .where(inArray(anomalyEvents.scoringRunId, ids))),
      );
    }
    return out;
  }
}
