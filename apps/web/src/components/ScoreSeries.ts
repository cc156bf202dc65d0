import type uPlot from 'uplot';
import type { Clip } from '../api/types';
import { formatOffset, formatScore } from '../format';

/** A shaded span of a score chart: an event, in milliseconds into the video. */
export interface ScoreBand {
  startMs: number;
  endMs: number;
  id?: number;
}

/**
 * The clip scores as steps: x in seconds into the video, y the clip's score
 * from its start to the next clip's start (or its own end); a gap between
 * clips (no clip scored there) breaks the line. Only clips touching
 * `rangeMs` when given.
 */
export function scoreSteps(clips: readonly Clip[], rangeMs?: readonly [number, number]): uPlot.AlignedData {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  const shown = rangeMs ? clips.filter((c) => c.endMs >= rangeMs[0] && c.startMs <= rangeMs[1]) : clips;
  let lastX = Number.NEGATIVE_INFINITY;
  const push = (xMs: number, y: number | null) => {
    const x = xMs / 1000;
    if (x <= lastX) return; // uPlot wants x strictly increasing
    xs.push(x);
    ys.push(y);
    lastX = x;
  };
  shown.forEach((clip, i) => {
    const next = shown[i + 1];
    push(clip.startMs, clip.anomalyScore);
    if (!next) {
      push(clip.endMs, clip.anomalyScore);
    } else if (next.startMs > clip.endMs) {
      push(clip.endMs, clip.anomalyScore);
      push((clip.endMs + next.startMs) / 2, null);
    }
  });
  return [xs, ys];
}

/** The clip the peak of an event falls in (the highest-scoring one where clips overlap). */
export function clipAt(clips: readonly Clip[], ms: number): Clip | undefined {
  let best: Clip | undefined;
  for (const clip of clips) {
    if (clip.startMs <= ms && ms <= clip.endMs && (!best || clip.anomalyScore > best.anomalyScore)) best = clip;
  }
  return best;
}

/** The events overlapping a span. */
export function bandsIn<T extends ScoreBand>(bands: readonly T[], rangeMs: readonly [number, number]): T[] {
  return bands.filter((band) => band.endMs >= rangeMs[0] && band.startMs <= rangeMs[1]);
}

/** What a score chart shows, in words (the chart is an image to a screen reader). */
export function describeScores(
  rangeMs: readonly [number, number],
  bands: readonly ScoreBand[],
  threshold?: number | null,
): string {
  const [from, to] = rangeMs;
  const span = from <= 0 ? `over ${formatOffset(to)}` : `from ${formatOffset(from)} to ${formatOffset(to)}`;
  const shown = bandsIn(bands, rangeMs);
  const spanOf = (band: ScoreBand) => `${formatOffset(band.startMs)} to ${formatOffset(band.endMs)}`;
  let events: string;
  if (shown.length === 0) events = 'no event';
  else if (shown.length === 1 && shown[0]) events = `1 event from ${spanOf(shown[0])}`;
  else if (shown.length <= 3) events = `${shown.length} events: ${shown.map(spanOf).join(', ')}`;
  else events = `${shown.length} events`;
  const line = typeof threshold === 'number' ? `; threshold ${formatScore(threshold)}` : '';
  return `Anomaly score ${span} with ${events}${line}`;
}

/** The threshold of a scoring run, when its params hold one. */
export function runThreshold(params: Record<string, unknown>): number | null {
  const value = params.threshold;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
