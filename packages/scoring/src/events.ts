export interface TimedScore {
  startMs: number;
  endMs: number;
  score: number;
  label: string;
}

/** Centred moving average over `window` neighbours (odd window; 1 = no smoothing). */
export function smoothScores(scores: readonly number[], window: number): number[] {
  if (window <= 1) return [...scores];
  const half = Math.floor(window / 2);
  return scores.map((_, i) => {
    const from = Math.max(0, i - half);
    const to = Math.min(scores.length - 1, i + half);
    let sum = 0;
    for (let k = from; k <= to; k++) sum += scores[k] as number;
    return sum / (to - from + 1);
  });
}

export interface EventOptions {
  threshold: number;
  /** Events shorter than this are dropped (after merging). */
  minDurationMs: number;
  /** Events closer than this are merged into one. */
  mergeGapMs: number;
}

export interface AnomalyEventSpan {
  startMs: number;
  endMs: number;
  peakMs: number;
  peakScore: number;
  label: string;
}

/**
 * Runs of clips whose (smoothed) score is at or above the threshold become
 * events; events closer than mergeGapMs merge; short ones are dropped. Each
 * event keeps its peak: the highest score, its time (middle of that clip) and
 * that clip's label. The result is sorted by start and never overlaps, and it
 * does not depend on the order the clips are given in.
 */
export function extractEvents(clips: readonly TimedScore[], options: EventOptions): AnomalyEventSpan[] {
  const above = clips
    .filter((c) => c.score >= options.threshold)
    .map((c) => ({
      startMs: c.startMs,
      endMs: c.endMs,
      peakMs: Math.round((c.startMs + c.endMs) / 2),
      peakScore: c.score,
      label: c.label,
    }))
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || b.peakScore - a.peakScore);
  const merged: AnomalyEventSpan[] = [];
  for (const span of above) {
    const last = merged.at(-1);
    if (last && span.startMs <= last.endMs + options.mergeGapMs) {
      last.endMs = Math.max(last.endMs, span.endMs);
      if (span.peakScore > last.peakScore || (span.peakScore === last.peakScore && span.peakMs < last.peakMs)) {
        last.peakScore = span.peakScore;
        last.peakMs = span.peakMs;
        last.label = span.label;
      }
    } else {
      merged.push({ ...span });
    }
  }
  return merged.filter((e) => e.endMs - e.startMs >= options.minDurationMs);
}

/** Per-frame score: the highest score among the clips that contain the frame (for frame-annotated ground truth). */
export function frameScores(
  frameCount: number,
  clips: readonly { positions: readonly number[]; validFrames: number; score: number }[],
) {
  const out = new Array<number>(frameCount).fill(0);
  for (const clip of clips) {
    for (const p of clip.positions.slice(0, clip.validFrames)) out[p] = Math.max(out[p] as number, clip.score);
  }
  return out;
}

/**
 * Tightens an event found on clips (8 s of context each) to the frames inside
 * it that look abnormal on their own: from the first to the last frame whose
 * own score reaches the threshold (plus one frame's duration). An event with
 * no such frame keeps its clip bounds.
 */
export function refineEvent(
  event: AnomalyEventSpan,
  frames: readonly { ptsMs: number; score: number }[],
  threshold: number,
  frameMs: number,
): AnomalyEventSpan {
  const inside = frames.filter((f) => f.ptsMs >= event.startMs && f.ptsMs < event.endMs && f.score >= threshold);
  const first = inside[0];
  const last = inside.at(-1);
  if (!first || !last) return event;
  const startMs = first.ptsMs;
  const endMs = Math.round(last.ptsMs + frameMs);
  return { ...event, startMs, endMs, peakMs: Math.min(Math.max(event.peakMs, startMs), endMs) };
}
