/** A camera's distribution of a query's scores: CLIP cosines bunch together, so a score means most next to its camera's. */
export interface ScoreStats {
  mean: number;
  std: number;
  frames: number;
}

/** Running mean and variance (Welford) of scores, per camera. */
export class ScoreStatsAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;

  add(scores: Float32Array, mask?: Uint8Array): void {
    for (let i = 0; i < scores.length; i++) {
      if (mask && !mask[i]) continue;
      const x = scores[i] as number;
      this.n++;
      const delta = x - this.mean;
      this.mean += delta / this.n;
      this.m2 += delta * (x - this.mean);
    }
  }

  stats(): ScoreStats {
    return { mean: this.mean, std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0, frames: this.n };
  }
}

/** How far above its camera's mean a score is, in its camera's standard deviations (0 when they do not vary). */
export function relativeScore(score: number, stats: ScoreStats): number {
  return stats.std > 1e-6 ? (score - stats.mean) / stats.std : 0;
}

/** A video's frames with a query's score each; frames with mask 0 are out of the search (time range, the event itself). */
export interface ScoredFrames {
  frames: Int32Array;
  ptsMs: Int32Array;
  scores: Float32Array;
  mask?: Uint8Array | undefined;
  /** How long a sampled frame lasts (1000 / sample fps): a moment ends one frame after its last. */
  frameMs: number;
}

export interface Moment {
  /** Rows of the first and last frame in the video's frame order. */
  firstRow: number;
  lastRow: number;
  startMs: number;
  endMs: number;
  bestFrame: number;
  bestMs: number;
  /** Cosine of the best frame with the query. */
  score: number;
  /** The best frame's score relative to its camera's (relativeScore). */
  relative: number;
  frames: number;
}

export interface MomentOptions {
  /**
   * A frame at least this far above its camera's mean (relative score)
   * starts a moment that takes in its neighbours; one below it is a moment
   * of its own.
   */
  minRelative: number;
  /** At most this many moments of the video (its best). */
  maxMoments: number;
}

export const DEFAULT_MOMENT_OPTIONS: MomentOptions = { minRelative: 1, maxMoments: 100 };

/**
 * The video's moments for a query: from its best frame down, each frame not
 * yet in a moment starts one. A start at least `minRelative` above its
 * camera's mean takes in the adjacent sampled frames while they stay above
 * half its relative score (half-way between the camera's mean and the
 * peak: a moment is where the match holds, not the whole stretch of
 * anything above average); a weaker start is a moment of its own. Results
 * are ranked by score, so weak moments come last.
 */
export function findMoments(video: ScoredFrames, stats: ScoreStats, options: MomentOptions): Moment[] {
  const { frames, ptsMs, scores, mask, frameMs } = video;
  const n = frames.length;
  // The best frames first. A page needs few moments: the best 4 × maxMoments + 64 frames are
  // enough unless moments absorb most of them, and sorting those alone beats sorting the night.
  const best = (count: number) => topFrames(scores, mask, count);
  let order = best(4 * options.maxMoments + 64);
  const taken = new Uint8Array(n);
  const moments: Moment[] = [];
  const inside = (i: number, floor: number) =>
    i >= 0 && i < n && !taken[i] && (!mask || mask[i]) && relativeScore(scores[i] as number, stats) >= floor;
  for (let k = 0; k < order.length; k++) {
    if (moments.length >= options.maxMoments) break;
    const seed = order[k] as number;
    // Out of candidates with moments still to find: every frame, in order (rare: long moments).
    if (k === order.length - 1 && order.length < n) order = best(n);
    if (taken[seed]) continue;
    const score = scores[seed] as number;
    const relative = relativeScore(score, stats);
    let first = seed;
    let last = seed;
    if (relative >= options.minRelative) {
      const floor = relative / 2;
      while (inside(first - 1, floor)) first--;
      while (inside(last + 1, floor)) last++;
    }
    for (let i = first; i <= last; i++) taken[i] = 1;
    moments.push({
      firstRow: first,
      lastRow: last,
      startMs: ptsMs[first] as number,
      endMs: (ptsMs[last] as number) + frameMs,
      bestFrame: frames[seed] as number,
      bestMs: ptsMs[seed] as number,
      score,
      relative,
      frames: last - first + 1,
    });
  }
  return moments;
}

/** Indices of the `count` highest scores (mask 1 only), best first, ties by index. */
function topFrames(scores: Float32Array, mask: Uint8Array | undefined, count: number): number[] {
  const n = scores.length;
  const better = (a: number, b: number) =>
    (scores[a] as number) > (scores[b] as number) || (scores[a] === scores[b] && a < b);
  if (count >= n) {
    const all = Array.from({ length: n }, (_, i) => i).filter((i) => !mask || mask[i]);
    return all.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  }
  // A min-heap of the best `count` so far: its root is the worst of them.
  const heap: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && better(heap[worst] as number, heap[l] as number)) worst = l;
      if (r < heap.length && better(heap[worst] as number, heap[r] as number)) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst] as number, heap[i] as number];
      i = worst;
    }
  };
  for (let i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    if (heap.length < count) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0; ) {
        const parent = (j - 1) >> 1;
        if (!better(heap[parent] as number, heap[j] as number)) break;
        [heap[parent], heap[j]] = [heap[j] as number, heap[parent] as number];
        j = parent;
      }
    } else if (better(i, heap[0] as number)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
}
