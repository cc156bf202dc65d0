import { extname } from 'node:path';
import type { EventReview, EventReviewSummary, EventRow, Video } from '@vad/db';
import type { SearchResult } from '@vad/search';
import { browserPlayable, clipSpan } from '@vad/video';
import type { Redact } from './redact.js';

/** Database rows as the API shows them: ISO times, URLs instead of storage paths. */

/** How stored paths and messages are shown: relative to the storage root, no absolute path in any text. */
export interface PathPresenter {
  /** A stored source path: relative to the storage root when under it. */
  path(stored: string): string;
  redact: Redact;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export function presentVideo(video: Video, camera: string | null, paths: PathPresenter) {
  const playable = browserPlayable({ container: extname(video.sourceUri), codec: video.codec });
  return {
    id: video.id,
    camera,
    status: video.status,
    error: video.error === null ? null : paths.redact(video.error),
    sourceUri: paths.path(video.sourceUri),
    sha256: video.sha256,
    bytes: video.bytes,
    durationMs: video.durationMs,
    fps: video.fps,
    width: video.width,
    height: video.height,
    codec: video.codec,
    model: video.model,
    recordedAt: iso(video.recordedAt),
    createdAt: video.createdAt.toISOString(),
    finishedAt: iso(video.finishedAt),
    currentRunId: video.currentRunId,
    priority: video.priority,
    urgent: video.urgent,
    playable,
    sourceUrl: playable && !video.sourceRemovedAt ? `/v1/videos/${video.id}/source` : null,
  };
}

/** An event; its review as null when the row has none (a run's events are shown without reviews). */
export function presentEvent(
  event: Omit<EventRow, 'sourceUri' | 'review'> & { review?: EventReviewSummary | null | undefined },
) {
  return {
    id: event.id,
    videoId: event.videoId,
    scoringRunId: event.scoringRunId,
    camera: event.camera,
    startAt: iso(event.startAt),
    endAt: iso(event.endAt),
    startMs: event.startMs,
    endMs: event.endMs,
    peakMs: event.peakMs,
    peakScore: event.peakScore,
    label: event.label,
    thumbnailUrl: event.thumbnailPath ? `/v1/events/${event.id}/thumbnail` : null,
    caption: event.caption,
    // The video's duration is not at hand here: the span is only kept from 0 (the clip ends with the video).
    clip: { url: `/v1/events/${event.id}/clip`, ...clipSpan(event, null) },
    review: event.review ? presentReviewSummary(event.review) : null,
  };
}

export function presentReviewSummary(review: EventReviewSummary) {
  return {
    verdict: review.verdict,
    note: review.note,
    reviewedBy: review.reviewedBy,
    reviewedAt: review.reviewedAt.toISOString(),
  };
}

export function presentReview(review: EventReview) {
  return {
    eventId: review.eventId,
    videoId: review.videoId,
    startMs: review.startMs,
    endMs: review.endMs,
    label: review.label,
    ...presentReviewSummary(review),
  };
}

/** A search's answer: times as ISO 8601, each moment with the URL of its best frame's thumbnail. */
export function presentSearchResult(result: SearchResult) {
  return {
    ...result,
    moments: result.moments.map((m) => ({
      ...m,
      startAt: iso(m.startAt),
      endAt: iso(m.endAt),
      bestAt: iso(m.bestAt),
      thumbnailUrl: `/v1/videos/${m.videoId}/frames/${m.bestFrame}/thumbnail`,
    })),
  };
}
