import { and, desc, eq, gte, inArray, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { anomalyEvents, type EventReview, eventReviews, reviewVerdict, videos } from '../schema.js';

/** An operator's verdict: `true` a real incident, `false` a false alarm. */
export type ReviewVerdict = (typeof reviewVerdict.enumValues)[number];
export const REVIEW_VERDICTS = reviewVerdict.enumValues;

/** Event listings filter on a verdict, or on events nobody has reviewed. */
export type VerdictFilter = ReviewVerdict | 'unreviewed';

export interface ReviewInput {
  verdict: ReviewVerdict;
  /** Free text; null or empty for none. */
  note?: string | null | undefined;
  /** Who: the API token's name, or the CLI user. */
  reviewedBy: string;
}

/** A review as event listings show it next to its event. */
export interface EventReviewSummary {
  verdict: ReviewVerdict;
  note: string | null;
  reviewedBy: string;
  reviewedAt: Date;
}

export interface ReviewListQuery {
  cameraId?: number | undefined;
  verdict?: ReviewVerdict | undefined;
  /** Reviewed at or after. */
  since?: Date | undefined;
  limit: number;
}

export interface ReviewSpanQuery {
  videoIds?: readonly string[] | undefined;
  cameraId?: number | undefined;
  verdict?: ReviewVerdict | undefined;
}

/** A reviewed time span of a video: what training (true) and the normal memory (false) read. */
export interface ReviewSpan {
  videoId: string;
  startMs: number;
  endMs: number;
  label: string;
  verdict: ReviewVerdict;
}

/**
 * Operators' verdicts on events. One review per event: reviewing again
 * replaces it. A review keeps its video and time span, so it survives a
 * rescore (saveRun re-attaches it to the new event overlapping it most).
 */
export class ReviewRepository {
  constructor(private readonly db: Database) {}

  /**
   * Records `input` as the review of event `eventId` (replacing its earlier
   * review: verdict, note, who, when, and the span and label of the event as
   * it is now). Undefined when there is no such event.
   */
  async review(eventId: number, input: ReviewInput): Promise<EventReview | undefined> {
    return this.db.transaction(async (tx) => {
      const [event] = await tx
        .select({ videoId: anomalyEvents.videoId })
        .from(anomalyEvents)
        .where(eq(anomalyEvents.id, eventId));
      if (!event) return undefined;
      // Waits for a rescore of the video being saved (saveRun holds the row FOR UPDATE), so the
      // review lands on an event saveRun has already re-attached reviews to, never in between.
      // KEY SHARE does not hold up the workers' ordinary updates of the row.
      await tx.execute(sql`select 1 from ${videos} where ${videos.id} = ${event.videoId} for key share`);
      const note = input.note ? input.note : null;
      const r = eventReviews;
      const e = anomalyEvents;
      const upserted = await tx.execute<{ id: string }>(sql`
        insert into ${r} (video_id, event_id, start_ms, end_ms, label, verdict, note, reviewed_by, reviewed_at)
        select ${e.videoId}, ${e.id}, ${e.startMs}, ${e.endMs}, ${e.label},
               ${input.verdict}::review_verdict, ${note}::text, ${input.reviewedBy}::text, now()
        from ${e}
        where ${e.id} = ${eventId}
        on conflict (event_id) do update set
          start_ms = excluded.start_ms, end_ms = excluded.end_ms, label = excluded.label,
          verdict = excluded.verdict, note = excluded.note,
          reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at
        returning id`);
      const id = upserted.rows[0]?.id;
      // None: the event went while this waited for a rescore to be saved.
      if (id === undefined) return undefined;
      const [review] = await tx
        .select()
        .from(r)
        .where(eq(r.id, Number(id)));
      return review;
    });
  }

  /** Removes the review of event `eventId`; false when it had none. */
  async remove(eventId: number): Promise<boolean> {
    const removed = await this.db
      .delete(eventReviews)
      .where(eq(eventReviews.eventId, eventId))
      .returning({ id: eventReviews.id });
    return removed.length > 0;
  }

  /** The review of event `eventId`, if any. */
  async forEvent(eventId: number): Promise<EventReview | undefined> {
    const [review] = await this.db.select().from(eventReviews).where(eq(eventReviews.eventId, eventId));
    return review;
  }

  /** Reviews, most recent first (detached ones included: their event went with a rescore). */
  async list(query: ReviewListQuery): Promise<EventReview[]> {
    return this.db
      .select()
      .from(eventReviews)
      .where(and(...this.filters(query), query.since ? gte(eventReviews.reviewedAt, query.since) : undefined))
      .orderBy(desc(eventReviews.reviewedAt), desc(eventReviews.id))
      .limit(query.limit);
  }

  /**
   * Reviewed spans by video and start: true alarms are training labels,
   * false alarms feed the camera's normal memory.
   */
  async spans(query: ReviewSpanQuery = {}): Promise<ReviewSpan[]> {
    if (query.videoIds && query.videoIds.length === 0) return [];
    return this.db
      .select({
        videoId: eventReviews.videoId,
        startMs: eventReviews.startMs,
        endMs: eventReviews.endMs,
        label: eventReviews.label,
        verdict: eventReviews.verdict,
      })
      .from(eventReviews)
      .where(
        and(...this.filters(query), query.videoIds ? inArray(eventReviews.videoId, [...query.videoIds]) : undefined),
      )
      .orderBy(eventReviews.videoId, eventReviews.startMs, eventReviews.id);
  }

  private filters(query: { cameraId?: number | undefined; verdict?: ReviewVerdict | undefined }): (SQL | undefined)[] {
    return [
      query.verdict ? eq(eventReviews.verdict, query.verdict) : undefined,
      query.cameraId !== undefined
        ? sql`${eventReviews.videoId} in (select ${videos.id} from ${videos} where ${videos.cameraId} = ${query.cameraId})`
        : undefined,
    ];
  }
}

/** An event of a new scoring run, as re-attachment sees it. */
export interface ReattachEvent {
  id: number;
  startMs: number;
  endMs: number;
}

/** A review of the video, as re-attachment sees it. */
export interface ReattachReview {
  id: number;
  startMs: number;
  endMs: number;
  reviewedAt: Date;
}

/**
 * Where each review goes after a rescore: the new event overlapping its span
 * most (by overlap length; ties to the earlier event), or none (null) when no
 * event overlaps it. One review per event: when several would land on one
 * event, the most recent (then the newest id) keeps it and the others stay
 * detached. Returns review id → event id or null, for every review.
 */
export function reattachReviews(
  reviews: readonly ReattachReview[],
  events: readonly ReattachEvent[],
): Map<number, number | null> {
  const byTime = [...events].sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const winners = new Map<number, ReattachReview>();
  const result = new Map<number, number | null>();
  for (const review of reviews) {
    result.set(review.id, null);
    let best: { id: number; overlap: number } | undefined;
    for (const event of byTime) {
      const overlap = Math.min(review.endMs, event.endMs) - Math.max(review.startMs, event.startMs);
      // Strictly more: on a tie the earlier event (sorted first) keeps it.
      if (overlap > 0 && (!best || overlap > best.overlap)) best = { id: event.id, overlap };
    }
    if (!best) continue;
    const holder = winners.get(best.id);
    const newer =
      !holder ||
      review.reviewedAt.getTime() > holder.reviewedAt.getTime() ||
      (review.reviewedAt.getTime() === holder.reviewedAt.getTime() && review.id > holder.id);
    if (newer) winners.set(best.id, review);
  }
  for (const [eventId, review] of winners) result.set(review.id, eventId);
  return result;
}

/** The transaction saveRun writes in. */
type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * In saveRun's transaction, after the new run's events are written: every
 * review of the video moves to the new event that overlaps its span most, or
 * is detached (event_id null) when none does (see reattachReviews).
 */
export async function reattachVideoReviews(
  tx: Transaction,
  videoId: string,
  events: readonly ReattachEvent[],
): Promise<void> {
  const reviews = await tx
    .select({
      id: eventReviews.id,
      eventId: eventReviews.eventId,
      startMs: eventReviews.startMs,
      endMs: eventReviews.endMs,
      reviewedAt: eventReviews.reviewedAt,
    })
    .from(eventReviews)
    .where(eq(eventReviews.videoId, videoId));
  const placed = reattachReviews(reviews, events);
  const moves = reviews
    .map((r) => ({ id: r.id, from: r.eventId, to: placed.get(r.id) ?? null }))
    .filter((m) => m.from !== m.to);
  if (!moves.length) return;
  // One statement: each new event is taken by one review at most, and no review
  // points at a new event yet, so the unique index on event_id holds row by row.
  const values = sql.join(
    moves.map((m) => sql`(${m.id}::bigint, ${m.to}::bigint)`),
    sql`, `,
  );
  await tx.execute(sql`
    update ${eventReviews} set event_id = moved.event_id
    from (values ${values}) as moved (id, event_id)
    where ${eventReviews.id} = moved.id`);
}
