import {
  type AnyColumn,
  and,
  count,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Database } from '../client.js';
import { dayHintsOf, readOnRunDays, rememberDay } from '../day-hints.js';
import { videoDay, writeToDays } from '../partitions.js';
import { anomalyEvents, cameras, clipScores, eventReviews, scoringRuns, videos } from '../schema.js';
import { type EventReviewSummary, reattachVideoReviews, type VerdictFilter } from './review-repository.js';

export interface ScoringRunInput {
  id: string;
  videoId: string;
  model: string;
  promptSet: string;
  aggregator: string;
  params: Record<string, unknown>;
  configHash: string;
}

export interface ClipScoreInput {
  clipIndex: number;
  startMs: number;
  endMs: number;
  validFrames: number;
  anomalyScore: number;
  label: string;
  probabilities: Record<string, number>;
}

export interface EventInput {
  startMs: number;
  endMs: number;
  peakMs: number;
  startAt: Date | null;
  endAt: Date | null;
  peakScore: number;
  label: string;
  thumbnailPath: string | null;
}

export interface EventQuery {
  camera?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  minScore?: number | undefined;
  label?: string | undefined;
  videoId?: string | undefined;
  /** Events an operator marked a true or a false alarm, or events without a review. */
  verdict?: VerdictFilter | undefined;
  /** Events whose caption matches these words (PostgreSQL full-text search, web-search syntax: `smoke -car`, "quoted phrase"). */
  captionText?: string | undefined;
  limit: number;
  /** `time`: newest start first (events without an absolute time are left out); `score`: highest peak first. */
  order?: 'time' | 'score' | undefined;
  /** Keyset of the previous page's last row: start time in epoch ms (order `time`) or peak score (order `score`), and id. */
  after?: { key: number; id: number } | undefined;
}

const eventColumns = {
  id: anomalyEvents.id,
  videoId: anomalyEvents.videoId,
  scoringRunId: anomalyEvents.scoringRunId,
  camera: cameras.name,
  startAt: anomalyEvents.startAt,
  endAt: anomalyEvents.endAt,
  startMs: anomalyEvents.startMs,
  endMs: anomalyEvents.endMs,
  peakMs: anomalyEvents.peakMs,
  peakScore: anomalyEvents.peakScore,
  label: anomalyEvents.label,
  thumbnailPath: anomalyEvents.thumbnailPath,
  caption: anomalyEvents.caption,
  sourceUri: videos.sourceUri,
};

/** The review of an event, next to it in listings (a LEFT JOIN on event_reviews' unique event_id). */
const reviewColumns = {
  verdict: eventReviews.verdict,
  note: eventReviews.note,
  reviewedBy: eventReviews.reviewedBy,
  reviewedAt: eventReviews.reviewedAt,
};

export interface EventRow {
  id: number;
  videoId: string;
  scoringRunId: string;
  camera: string | null;
  startAt: Date | null;
  endAt: Date | null;
  startMs: number;
  endMs: number;
  peakMs: number;
  peakScore: number;
  label: string;
  thumbnailPath: string | null;
  /** What the image captioner saw at the peak; null until captioned (or with no captioner). */
  caption: string | null;
  sourceUri: string;
  /** The operator's review of the event, if any. */
  review: EventReviewSummary | null;
}

/**
 * `DESC NULLS LAST`, the order the partial event indexes are built in
 * (drizzle's `.desc()` in schema.ts). A plain `DESC` means NULLS FIRST in
 * PostgreSQL, and the planner does not treat the two as the same order even
 * on a NOT NULL column: the listing would then sort every current event
 * instead of reading the index's first `limit` entries.
 */
const descNullsLast = (column: AnyColumn): SQL => sql`${column} desc nulls last`;

/**
 * The verdict filter as a semi- (anti-) join on event_reviews' unique event_id
 * index: the page is still chosen from the events table, read in index order,
 * each candidate looked up in event_reviews.
 */
function verdictFilter(eventId: AnyColumn, verdict: VerdictFilter | undefined): SQL | undefined {
  if (!verdict) return undefined;
  const r = eventReviews;
  return verdict === 'unreviewed'
    ? sql`not exists (select 1 from ${r} where ${r.eventId} = ${eventId})`
    : sql`exists (select 1 from ${r} where ${r.eventId} = ${eventId} and ${r.verdict} = ${verdict})`;
}

/** A listing row with its LEFT JOINed review columns folded into `review`. */
function withReview<
  T extends {
    verdict: EventReviewSummary['verdict'] | null;
    note: string | null;
    reviewedBy: string | null;
    reviewedAt: Date | null;
  },
>(row: T): Omit<T, 'verdict' | 'note' | 'reviewedBy' | 'reviewedAt'> & { review: EventReviewSummary | null } {
  const { verdict, note, reviewedBy, reviewedAt, ...event } = row;
  // A review's verdict, reviewer and time are NOT NULL: null ones mean the event has none.
  const review =
    verdict === null || reviewedBy === null || reviewedAt === null ? null : { verdict, note, reviewedBy, reviewedAt };
  return { ...event, review };
}

export class ScoringRepository {
  constructor(private readonly db: Database) {}

  /**
   * Writes a scoring run with its clip scores and events in one transaction,
   * replacing an earlier run of the same video and scoring config (so a
   * re-run never duplicates), and marks the video done when asked. The
   * video's reviews move to the new events (see reattachReviews). Returns
   * the id of the run it replaced, if any.
   */
  async saveRun(
    run: ScoringRunInput,
    clips: readonly ClipScoreInput[],
    events: readonly EventInput[],
    cameraId: number | null,
    options: { markVideoDone: boolean },
  ): Promise<{ replacedRunId: string | undefined }> {
    // Clip scores go to the partition of the video's recording day (looked up once, before the
    // transaction: a missing partition is created outside it, see partitions.ts).
    const [video] = await this.db.select({ day: videoDay }).from(videos).where(eq(videos.id, run.videoId));
    if (!video) throw new Error(`no video ${run.videoId}: cannot save its scoring run`);
    const save = () =>
      this.db.transaction(async (tx) => {
        // One run saved per video at a time (two rescores on two workers): the current flags stay single.
        await tx.execute(sql`select 1 from ${videos} where ${videos.id} = ${run.videoId} for update`);
        const replaced = await tx
          .delete(scoringRuns)
          .where(and(eq(scoringRuns.videoId, run.videoId), eq(scoringRuns.configHash, run.configHash)))
          .returning({ id: scoringRuns.id });
        await tx.insert(scoringRuns).values(run);
        for (let i = 0; i < clips.length; i += 1000) {
          await tx
            .insert(clipScores)
            .values(
              clips
                .slice(i, i + 1000)
                .map((c) => ({ ...c, scoringRunId: run.id, videoId: run.videoId, recordedDay: video.day })),
            );
        }
        // The new run's events become the video's current ones; earlier runs' stop being current.
        await tx
          .update(anomalyEvents)
          .set({ current: false })
          .where(and(eq(anomalyEvents.videoId, run.videoId), eq(anomalyEvents.current, true)));
        const inserted = events.length
          ? await tx
              .insert(anomalyEvents)
              .values(
                events.map((e) => ({ ...e, videoId: run.videoId, cameraId, scoringRunId: run.id, current: true })),
              )
              .returning({ id: anomalyEvents.id, startMs: anomalyEvents.startMs, endMs: anomalyEvents.endMs })
          : [];
        await reattachVideoReviews(tx, run.videoId, inserted);
        const done = options.markVideoDone
          ? { status: 'done' as const, error: null, finishedAt: sql`coalesce(${videos.finishedAt}, now())` }
          : {};
        await tx
          .update(videos)
          .set({ currentRunId: run.id, updatedAt: sql`now()`, ...done })
          .where(eq(videos.id, run.videoId));
        return { replacedRunId: replaced[0]?.id };
      });
    if (!clips.length) return save();
    const saved = await writeToDays(this.db, 'clip_scores', [video.day], save);
    // Where clipsOf will find them.
    rememberDay(dayHintsOf(this.db).runs, run.id, video.day);
    return saved;
  }

  /** The video's current scoring run (its latest saved), the one its results show. */
  async latestRun(videoId: string) {
    const [row] = await this.db
      .select({ run: scoringRuns })
      .from(videos)
      .innerJoin(scoringRuns, eq(scoringRuns.id, videos.currentRunId))
      .where(eq(videos.id, videoId));
    return row?.run;
  }

  /** Runs of a video, newest first. */
  async runsOf(videoId: string) {
    return this.db
      .select()
      .from(scoringRuns)
      .where(eq(scoringRuns.videoId, videoId))
      .orderBy(desc(scoringRuns.createdAt));
  }

  /**
   * The run's clip scores in clip order, read from the partition of the run's
   * day (see day-hints.ts: named before planning, so that one partition is
   * planned and locked), or from every day when none are there (a run
   * without clips, or whose clips are on another day).
   */
  async clipsOf(runId: string) {
    return readOnRunDays(
      this.db,
      dayHintsOf(this.db),
      [runId],
      (ids, days) =>
        this.db
          .select()
          .from(clipScores)
          .where(
            and(
              eq(clipScores.scoringRunId, ids[0] ?? runId),
              days === undefined ? undefined : inArray(clipScores.recordedDay, days),
            ),
          )
          .orderBy(clipScores.clipIndex),
      (c) => ({ runId: c.scoringRunId, day: c.recordedDay }),
    );
  }

  async eventsOf(runId: string) {
    // Every column but the caption's search document (PostgreSQL's, not the caller's).
    const { captionWords: _, ...columns } = getTableColumns(anomalyEvents);
    return this.db
      .select(columns)
      .from(anomalyEvents)
      .where(eq(anomalyEvents.scoringRunId, runId))
      .orderBy(anomalyEvents.startMs);
  }

  /**
   * Events of each video's current scoring run, filtered, newest first (or
   * highest peak score first), `limit` of them after the keyset `after`: the
   * (start time or score, id) of the last row of the previous page. Keyset
   * pages neither skip nor repeat rows while new events are written.
   */
  async findEvents(query: EventQuery): Promise<EventRow[]> {
    const order = query.order ?? 'time';
    const e = anomalyEvents;
    const filters: (SQL | undefined)[] = [
      // The partial indexes' own predicate, as it is written there (not `current = $1`,
      // which a cached generic plan could not match to them).
      sql`${e.current}`,
      query.camera
        ? eq(e.cameraId, sql`(select ${cameras.id} from ${cameras} where ${cameras.name} = ${query.camera})`)
        : undefined,
      query.since ? gte(e.startAt, query.since) : undefined,
      query.until ? lt(e.startAt, query.until) : undefined,
      query.minScore !== undefined ? gte(e.peakScore, query.minScore) : undefined,
      query.label ? eq(e.label, query.label) : undefined,
      query.videoId ? eq(e.videoId, query.videoId) : undefined,
      order === 'time' ? isNotNull(e.startAt) : undefined,
      verdictFilter(e.id, query.verdict),
      query.captionText ? sql`${e.captionWords} @@ websearch_to_tsquery('english', ${query.captionText})` : undefined,
    ];
    if (query.after) {
      // Row comparison in the index's own order, read by the index as its start
      // (`Index Cond`). Neither side can be NULL: order `time` leaves out events
      // without a start time, and peak_score and id are NOT NULL.
      const { key, id } = query.after;
      filters.push(
        order === 'time'
          ? sql`(${e.startAt}, ${e.id}) < (${new Date(key).toISOString()}::timestamptz, ${id})`
          : sql`(${e.peakScore}, ${e.id}) < (${key}::real, ${id})`,
      );
    }
    const ordering = (t: { startAt: AnyColumn; peakScore: AnyColumn; id: AnyColumn }) =>
      order === 'time'
        ? [descNullsLast(t.startAt), descNullsLast(t.id)]
        : [descNullsLast(t.peakScore), descNullsLast(t.id)];
    // The page is chosen from the events table alone (partial indexes on current
    // events), then joined to its camera and video: joins cost `limit` rows, not the night's.
    const matching = this.db
      .select()
      .from(e)
      .where(and(...filters));
    const page = (
      order === 'score' && (query.since || query.until)
        ? // The highest scores of a time range: the range's events (read by their start
          // time) sorted, whatever their number. Left to itself, the planner may walk the
          // score index instead, skipping events outside the range until `limit` are found:
          // fast while the range holds many events, a scan of every current event when it
          // holds none (events are clustered in time, and its estimate is spread evenly).
          // OFFSET 0 keeps the range's scan apart from the ORDER BY … LIMIT above it
          // (as SQL: drizzle leaves out a numeric offset of 0).
          this.db
            .select()
            .from(matching.offset(sql`0` as unknown as number).as('matching'))
            .orderBy(({ peakScore, id }) => [descNullsLast(peakScore), descNullsLast(id)])
            .limit(query.limit)
        : matching.orderBy(...ordering(e)).limit(query.limit)
    ).as('page');
    const rows = await this.db
      .select({
        id: page.id,
        videoId: page.videoId,
        scoringRunId: page.scoringRunId,
        camera: cameras.name,
        startAt: page.startAt,
        endAt: page.endAt,
        startMs: page.startMs,
        endMs: page.endMs,
        peakMs: page.peakMs,
        peakScore: page.peakScore,
        label: page.label,
        thumbnailPath: page.thumbnailPath,
        caption: page.caption,
        sourceUri: videos.sourceUri,
        ...reviewColumns,
      })
      .from(page)
      .innerJoin(videos, eq(videos.id, page.videoId))
      .leftJoin(cameras, eq(cameras.id, page.cameraId))
      .leftJoin(eventReviews, eq(eventReviews.eventId, page.id))
      .orderBy(...ordering(page));
    return rows.map(withReview);
  }

  /** Stores an event's caption (the captioner's name and the time with it). */
  async setCaption(id: number, caption: string, model: string): Promise<void> {
    await this.db
      .update(anomalyEvents)
      .set({ caption, captionModel: model, captionedAt: sql`now()` })
      .where(eq(anomalyEvents.id, id));
  }

  /** Captions written since `since` (the captioner's nightly budget). */
  async countCaptionedSince(since: Date): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(anomalyEvents).where(gte(anomalyEvents.captionedAt, since));
    return row?.n ?? 0;
  }

  /** Current events without a caption, highest peak first (what a backfill captions first). */
  async uncaptionedEvents(query: {
    since?: Date | undefined;
    camera?: string | undefined;
    runId?: string | undefined;
    limit: number;
  }) {
    const e = anomalyEvents;
    return this.db
      .select({ ...eventColumns, recordedAt: videos.recordedAt, sourceRemovedAt: videos.sourceRemovedAt })
      .from(e)
      .innerJoin(videos, eq(videos.id, e.videoId))
      .leftJoin(cameras, eq(cameras.id, e.cameraId))
      .where(
        and(
          sql`${e.current}`,
          isNull(e.caption),
          query.since ? gte(e.startAt, query.since) : undefined,
          query.camera ? eq(cameras.name, query.camera) : undefined,
          query.runId ? eq(e.scoringRunId, query.runId) : undefined,
        ),
      )
      .orderBy(desc(e.peakScore), desc(e.id))
      .limit(query.limit);
  }

  async getEvent(id: number): Promise<EventRow | undefined> {
    const [row] = await this.db
      .select({ ...eventColumns, ...reviewColumns })
      .from(anomalyEvents)
      .innerJoin(videos, eq(videos.id, anomalyEvents.videoId))
      .leftJoin(cameras, eq(cameras.id, anomalyEvents.cameraId))
      .leftJoin(eventReviews, eq(eventReviews.eventId, anomalyEvents.id))
      .where(eq(anomalyEvents.id, id));
    return row && withReview(row);
  }
}
