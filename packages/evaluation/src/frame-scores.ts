import type { GroundTruthInterval } from './ground-truth.js';

/**
 * A video's clip scores in clip order: clip c covers [startMs[c], endMs[c])
 * of the video with score scores[c] (as clip_scores stores them).
 */
export interface ClipSeries {
  startMs: ArrayLike<number>;
  endMs: ArrayLike<number>;
  scores: ArrayLike<number>;
}

/** Native frames start ≤ i < end. */
export interface FrameRange {
  start: number;
  end: number;
}

/** A time span of a video in milliseconds, [startMs, endMs). */
export interface TimeSpan {
  startMs: number;
  endMs: number;
}

/** Receives runs of consecutive native frames that share a score and a label. */
export interface SampleSink {
  push(score: number, label: 0 | 1, frames: number): void;
}

/** The number of native frames of a video: round(duration × fps). */
export function frameCountOf(durationMs: number, fps: number): number {
  return Math.max(0, Math.round((durationMs * fps) / 1000));
}

/** The first native frame whose time i / fps is at or after `ms` (a hair of tolerance for float error). */
export function frameAtMs(ms: number, fps: number): number {
  return Math.max(0, Math.ceil((ms * fps) / 1000 - 1e-6));
}

/** Whether two frame rates are the same rate (29.97 and 30 are not). */
const sameRate = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(a, b);

/** Sorted, merged, non-empty ranges. */
function mergeRanges<T extends { start: number; end: number }>(ranges: T[]): T[] {
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: T[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

/**
 * The native frames ground-truth intervals mark, sorted and merged, within
 * 0..frameCount: frame numbers at the video's own rate mark frames
 * start ≤ i < end; frame numbers at another rate (XD-Violence's 24 fps) and
 * seconds mark the frames whose time i / fps lies in [start, end).
 */
export function groundTruthFrames(
  intervals: readonly GroundTruthInterval[],
  fps: number,
  frameCount: number,
): FrameRange[] {
  return mergeRanges(
    intervals.map((interval) => {
      let start: number;
      let end: number;
      if (interval.unit === 'frame' && (interval.fps === undefined || sameRate(interval.fps, fps))) {
        [start, end] = [interval.start, interval.end];
      } else {
        const perSecond = interval.unit === 'frame' ? (interval.fps as number) : 1;
        start = frameAtMs((interval.start / perSecond) * 1000, fps);
        end = frameAtMs((interval.end / perSecond) * 1000, fps);
      }
      return { start: Math.min(start, frameCount), end: Math.min(end, frameCount) };
    }),
  );
}

/** Ground-truth intervals as time spans (for event matching), sorted, merged and cut at the video's end. */
export function groundTruthSpans(
  intervals: readonly GroundTruthInterval[],
  fps: number,
  durationMs: number,
): TimeSpan[] {
  return mergeRanges(
    intervals.map((interval) => {
      const perSecond = interval.unit === 'frame' ? (interval.fps ?? fps) : 1;
      return {
        start: Math.min((interval.start / perSecond) * 1000, durationMs),
        end: Math.min((interval.end / perSecond) * 1000, durationMs),
      };
    }),
  ).map((r) => ({ startMs: r.start, endMs: r.end }));
}

/** A max-heap of clip indexes by score, in typed arrays. */
class ScoreHeap {
  private readonly items: Int32Array;
  size = 0;
  constructor(
    capacity: number,
    private readonly scores: ArrayLike<number>,
  ) {
    this.items = new Int32Array(capacity);
  }
  private key(i: number): number {
    return this.scores[this.items[i] as number] as number;
  }
  top(): number {
    return this.items[0] as number;
  }
  push(clip: number): void {
    let i = this.size++;
    this.items[i] = clip;
    const key = this.scores[clip] as number;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(parent) >= key) break;
      this.items[i] = this.items[parent] as number;
      i = parent;
    }
    this.items[i] = clip;
  }
  pop(): void {
    const last = this.items[--this.size] as number;
    if (this.size === 0) return;
    const key = this.scores[last] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.key(child + 1) > this.key(child)) child++;
      if (this.key(child) <= key) break;
      this.items[i] = this.items[child] as number;
      i = child;
    }
    this.items[i] = last;
  }
}

/**
 * A video's native frames as runs of (score, label, frame count), in frame
 * order, given to `sink`. Frame i (at time i / fps) gets the highest score
 * of the clips covering that time (clips overlap when their stride is
 * shorter than a clip); frames after the last clip keep the score of the
 * last covered frame (the last clip's), frames before the first clip (a
 * picture that starts late) take the first covered frame's. The label is 1
 * for frames inside `truth`.
 *
 * Equal to expanding every frame (expandClipScores, frameLabels) and
 * counting, without a per-frame array: O((clips + intervals) log clips),
 * whatever the frame rate and length.
 */
export function frameRuns(
  clips: ClipSeries,
  truth: readonly FrameRange[],
  fps: number,
  frameCount: number,
  sink: SampleSink,
): void {
  const n = clips.scores.length;
  if (frameCount <= 0) return;
  if (n === 0) throw new RangeError('no clip scores to expand');
  const first = new Int32Array(n);
  const end = new Int32Array(n);
  const bounds = new Float64Array(2 * n + 2 + 2 * truth.length);
  let b = 0;
  bounds[b++] = 0;
  bounds[b++] = frameCount;
  for (let c = 0; c < n; c++) {
    first[c] = Math.min(frameAtMs(clips.startMs[c] as number, fps), frameCount);
    end[c] = Math.min(frameAtMs(clips.endMs[c] as number, fps), frameCount);
    bounds[b++] = first[c] as number;
    bounds[b++] = end[c] as number;
  }
  for (const range of truth) {
    bounds[b++] = Math.min(range.start, frameCount);
    bounds[b++] = Math.min(range.end, frameCount);
  }
  bounds.sort();
  let m = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (i === 0 || (bounds[i] as number) !== (bounds[m - 1] as number)) bounds[m++] = bounds[i] as number;
  }
  // Elementary segments [bounds[j], bounds[j + 1]) for j < m - 1: each has one score and one label.
  const segments = m - 1;
  const score = new Float64Array(segments);
  const covered = new Uint8Array(segments);
  const order = new Uint32Array(n);
  let ordered = true;
  for (let c = 0; c < n; c++) {
    order[c] = c;
    if (c && (first[c] as number) < (first[c - 1] as number)) ordered = false;
  }
  // Clips come in clip order, which is start order: sorting is for any other input.
  if (!ordered) order.sort((x, y) => (first[x] as number) - (first[y] as number));
  const heap = new ScoreHeap(n, clips.scores);
  let next = 0;
  for (let j = 0; j < segments; j++) {
    const at = bounds[j] as number;
    while (next < n && (first[order[next] as number] as number) <= at) {
      const c = order[next++] as number;
      if ((end[c] as number) > (first[c] as number)) heap.push(c);
    }
    while (heap.size && (end[heap.top()] as number) <= at) heap.pop();
    if (heap.size) {
      score[j] = clips.scores[heap.top()] as number;
      covered[j] = 1;
    }
  }
  // Uncovered segments hold the last covered score; leading ones take the first.
  let held = Number.NaN;
  for (let j = 0; j < segments; j++) {
    if (covered[j]) held = score[j] as number;
    else score[j] = held;
  }
  if (Number.isNaN(score[0] as number)) {
    let j = 0;
    while (j < segments && !covered[j]) j++;
    // No clip covers any frame (clips shorter than a frame interval): every frame is after "the last clip".
    const fill = j < segments ? (score[j] as number) : (clips.scores[n - 1] as number);
    for (let k = 0; k < j; k++) score[k] = fill;
  }
  let t = 0;
  let runScore = Number.NaN;
  let runLabel: 0 | 1 = 0;
  let runFrames = 0;
  for (let j = 0; j < segments; j++) {
    const start = bounds[j] as number;
    while (t < truth.length && (truth[t] as FrameRange).end <= start) t++;
    const inside = t < truth.length && (truth[t] as FrameRange).start <= start;
    const label: 0 | 1 = inside ? 1 : 0;
    const frames = (bounds[j + 1] as number) - start;
    const s = score[j] as number;
    if (runFrames && s === runScore && label === runLabel) runFrames += frames;
    else {
      if (runFrames) sink.push(runScore, runLabel, runFrames);
      runScore = s;
      runLabel = label;
      runFrames = frames;
    }
  }
  if (runFrames) sink.push(runScore, runLabel, runFrames);
}

/** Every native frame's score (the rule of frameRuns), for small videos, tests and plots. */
export function expandClipScores(clips: ClipSeries, fps: number, frameCount: number): Float64Array {
  const out = new Float64Array(Math.max(0, frameCount));
  let i = 0;
  frameRuns(clips, [], fps, frameCount, {
    push(score, _label, frames) {
      out.fill(score, i, i + frames);
      i += frames;
    },
  });
  return out;
}

/** Every native frame's label: 1 inside the ground truth's ranges. */
export function frameLabels(truth: readonly FrameRange[], frameCount: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, frameCount));
  for (const range of truth) out.fill(1, Math.max(0, range.start), Math.min(frameCount, range.end));
  return out;
}

/**
 * Scored samples with weights (frame counts) in growable typed arrays: the
 * whole evaluation's frames as runs, no object per frame or per run.
 */
export class SampleBuffer implements SampleSink {
  scores = new Float64Array(1024);
  labels = new Uint8Array(1024);
  weights = new Float64Array(1024);
  length = 0;

  push(score: number, label: 0 | 1, frames: number): void {
    if (this.length === this.scores.length) this.grow(this.length * 2);
    this.scores[this.length] = score;
    this.labels[this.length] = label;
    this.weights[this.length] = frames;
    this.length++;
  }

  private grow(capacity: number): void {
    const scores = new Float64Array(capacity);
    scores.set(this.scores.subarray(0, this.length));
    const labels = new Uint8Array(capacity);
    labels.set(this.labels.subarray(0, this.length));
    const weights = new Float64Array(capacity);
    weights.set(this.weights.subarray(0, this.length));
    this.scores = scores;
    this.labels = labels;
    this.weights = weights;
  }

  /** The samples of these [from, to) ranges, copied into exact-length arrays. */
  select(ranges: readonly { from: number; to: number }[]): Samples {
    const total = ranges.reduce((sum, r) => sum + (r.to - r.from), 0);
    const out: Samples = {
      scores: new Float64Array(total),
      labels: new Uint8Array(total),
      weights: new Float64Array(total),
    };
    let at = 0;
    for (const { from, to } of ranges) {
      out.scores.set(this.scores.subarray(from, to), at);
      out.labels.set(this.labels.subarray(from, to), at);
      out.weights.set(this.weights.subarray(from, to), at);
      at += to - from;
    }
    return out;
  }

  /** Everything pushed, as views (no copy). */
  all(): Samples {
    return {
      scores: this.scores.subarray(0, this.length),
      labels: this.labels.subarray(0, this.length),
      weights: this.weights.subarray(0, this.length),
    };
  }
}

/** Scores with binary labels and weights (frames per sample). */
export interface Samples {
  scores: Float64Array;
  labels: Uint8Array;
  weights: Float64Array;
}
