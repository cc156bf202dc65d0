import type { Clip } from './clips.js';
import { DotProducts } from './dot-kernel.js';
import type { EventOptions, TimedScore } from './events.js';
import { normalize, type Vector, weightedMean } from './vectors.js';

/**
 * Per-camera normality: a fixed camera sees the same scene every night, so a
 * clip is unusual when it is far from every clip the camera has shown before.
 *
 * - A camera's normal memory is a set of clip features (unit vectors): the
 *   mean of each clip's distinct frame embeddings (`poolNormalityFeature`),
 *   the same pooling when the memory is learned and when a video is scored,
 *   whatever VAD_AGGREGATOR says (attention weights come from the prompts, a
 *   learned head from training data: neither belongs in a prompt-free measure).
 * - A clip's distance is the mean cosine distance (1 − dot) to its k nearest
 *   memory features (`k` = 3), found by brute force (`DotProducts`:
 *   WebAssembly SIMD). A video's own features are left out when it is scored
 *   (it is measured as a new night would be). A feature an operator marked
 *   as a false alarm is pinned: it counts as k neighbours and is never left
 *   out, so one marked event makes its scene normal, its own rescore included.
 * - It is standardised by the camera's own distances: up to 512 memory
 *   features, evenly spaced, each measured against the memory without the
 *   features of its own video (leave one video out: a new night is never in
 *   the memory, so this is the distance a normal new night has); their median
 *   and MAD give z = (d − median) / max(1.4826 · MAD, 0.005).
 * - z becomes a score in 0..1 by a logistic centred on z = 3:
 *   score = 1 / (1 + e^−(z − 3)): the median normal clip scores 0.05, a clip
 *   3 robust standard deviations out 0.5 (the default event threshold), 6 out 0.95.
 * - The memory is capped at 4,000 features by a farthest-point (k-center)
 *   coreset (`farthestPointCoreset`): rare normal states (headlights once a
 *   night) are kept, repeats of the usual scene dropped.
 */

/** Neighbours a clip's distance is averaged over. */
export const NORMALITY_K = 3;
/** Most features a camera's memory keeps (per model). */
export const NORMAL_MEMORY_MAX = 4_000;
/** Memory features whose leave-one-video-out distances standardise the camera's distances. */
export const STANDARDISATION_SAMPLE = 512;
/** Smallest scale of z (cosine distance): a perfectly static scene's spread is noise. */
export const MIN_DISTANCE_SCALE = 0.005;
/** The z whose score is 0.5. */
export const NORMALITY_Z_MID = 3;
/**
 * Clips of the same video this close (in clip indices) are left out when a
 * memory of a single video is standardised: they overlap the clip measured.
 */
const SAME_VIDEO_GAP = 2;

/** The normality feature of a clip: the unit mean of its distinct frames (padding repeats left out). */
export function poolNormalityFeature(clip: Clip<Vector>): Vector {
  return normalize(weightedMean(clip.frames.slice(0, clip.validFrames)));
}

/** A stored memory feature, with where it came from (for leave-one-video-out). */
export interface MemoryFeature {
  feature: Vector;
  /** Its video; null when unknown (retention removed the video): then it is its own group. */
  videoId: string | null;
  clipIndex: number;
  /**
   * A clip an operator marked as a false alarm: an operator's verdict is
   * certain where a history clip is only probably normal, so it counts as k
   * neighbours (alone it makes its scene normal), and it is compared with
   * its own video too (`excludeVideo` leaves it in: rescoring the video clears the alarm).
   */
  pinned?: boolean | undefined;
}

export interface NormalMemoryOptions {
  k?: number;
  sample?: number;
  minScale?: number;
  /** Compute with plain JavaScript even where WebAssembly SIMD is available (tests). */
  simd?: boolean;
}

/** A memory ready to score against: its features as one matrix, and its own distance distribution. */
export interface NormalMemory {
  size: number;
  dim: number;
  k: number;
  /** Median and scale (1.4826 · MAD, at least MIN_DISTANCE_SCALE) of the memory's leave-one-video-out distances. */
  center: number;
  scale: number;
  /** The video of each feature, as small integers (-1: unknown). */
  groups: Int32Array;
  /** 1 for a pinned feature (counts k times, never left out with its video). */
  pinned: Uint8Array;
  /** Video id → its group number. */
  groupOf: ReadonlyMap<string, number>;
  products: DotProducts;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Mean cosine distance of each query to its k nearest memory rows, leaving
 * out the rows `exclude(query, row)` says; a `pinned` row counts k times (it
 * alone fills the k). NaN for a query with no row left.
 */
function nearestDistances(
  queries: readonly Vector[],
  products: DotProducts,
  k: number,
  pinned: Uint8Array,
  exclude?: (query: number, row: number) => boolean,
): Float64Array {
  const rows = products.rows;
  const result = new Float64Array(queries.length);
  const dots = new Float32Array(rows * 4);
  const best = new Float64Array(k);
  for (let start = 0; start < queries.length; start += 4) {
    const block = queries.slice(start, start + 4);
    products.four(block, dots);
    for (let i = 0; i < block.length; i++) {
      const q = start + i;
      best.fill(Number.NEGATIVE_INFINITY);
      let found = 0;
      for (let r = 0; r < rows; r++) {
        const v = dots[r * 4 + i] as number;
        if (v <= (best[k - 1] as number) || exclude?.(q, r)) continue;
        // Insertion into the k largest so far, kept sorted (k is small).
        for (let copies = pinned[r] ? k : 1; copies > 0 && v > (best[k - 1] as number); copies--) {
          let p = k - 1;
          while (p > 0 && (best[p - 1] as number) < v) {
            best[p] = best[p - 1] as number;
            p--;
          }
          best[p] = v;
          found++;
        }
      }
      const n = Math.min(found, k);
      let sum = 0;
      for (let p = 0; p < n; p++) sum += Math.max(0, 1 - (best[p] as number));
      result[q] = n ? sum / n : Number.NaN;
    }
  }
  return result;
}

/**
 * A camera's memory from its stored features (any order): the features as a
 * matrix (renormalised), and the median and scale of their leave-one-video-out
 * k-nearest distances. A memory of one video leaves out, for each feature,
 * the features of the clips overlapping it instead. Throws a RangeError for
 * an empty memory, one of a single feature, or features of mixed dimensions.
 */
export function buildNormalMemory(features: readonly MemoryFeature[], options: NormalMemoryOptions = {}): NormalMemory {
  const k = options.k ?? NORMALITY_K;
  if (features.length === 0) throw new RangeError('the normal memory is empty');
  if (features.length < 2) throw new RangeError('the normal memory holds 1 feature: it needs at least 2');
  const dim = features[0]?.feature.length ?? 0;
  const matrix = new Float32Array(features.length * dim);
  const groupOf = new Map<string, number>();
  const groups = new Int32Array(features.length);
  const pinned = new Uint8Array(features.length);
  features.forEach((f, i) => {
    if (f.feature.length !== dim)
      throw new RangeError(`memory features of ${dim} and ${f.feature.length} dimensions: one model per memory`);
    matrix.set(normalize(f.feature), i * dim);
    if (f.pinned) pinned[i] = 1;
    if (f.videoId === null) groups[i] = -1;
    else {
      let g = groupOf.get(f.videoId);
      if (g === undefined) {
        g = groupOf.size;
        groupOf.set(f.videoId, g);
      }
      groups[i] = g;
    }
  });
  const products = new DotProducts(matrix, dim, options.simd === undefined ? {} : { simd: options.simd });
  const sampleSize = Math.min(features.length, options.sample ?? STANDARDISATION_SAMPLE);
  const sample = Array.from({ length: sampleSize }, (_, i) => Math.floor((i * features.length) / sampleSize));
  const multiVideo = groupOf.size + (groups.includes(-1) ? 1 : 0) > 1;
  const distances = nearestDistances(
    sample.map((row) => matrix.subarray(row * dim, (row + 1) * dim)),
    products,
    k,
    pinned,
    (q, r) => {
      const row = sample[q] as number;
      if (r === row) return true;
      const g = groups[row] as number;
      if (g === -1 || groups[r] !== g) return false;
      if (multiVideo) return true;
      const gap = Math.abs((features[r]?.clipIndex ?? 0) - (features[row]?.clipIndex ?? 0));
      return gap <= SAME_VIDEO_GAP;
    },
  );
  const measured = [...distances].filter((d) => !Number.isNaN(d));
  if (!measured.length) throw new RangeError('the normal memory has no two features far enough apart to compare');
  const center = median(measured);
  const mad = median(measured.map((d) => Math.abs(d - center)));
  const scale = Math.max(1.4826 * mad, options.minScale ?? MIN_DISTANCE_SCALE);
  return { size: features.length, dim, k, center, scale, groups, pinned, groupOf, products };
}

/**
 * Mean cosine distance of each feature to its k nearest memory features.
 * `excludeVideo`: a video's own features are left out (a video scored
 * against a memory learned from it is measured as a new night would be),
 * except pinned ones (false alarms an operator marked).
 */
export function knnDistances(
  features: readonly Vector[],
  memory: NormalMemory,
  options: { excludeVideo?: string | undefined } = {},
): Float64Array {
  for (const f of features) {
    if (f.length !== memory.dim)
      throw new RangeError(`features of ${f.length} dimensions against a memory of ${memory.dim}`);
  }
  const own = options.excludeVideo === undefined ? undefined : memory.groupOf.get(options.excludeVideo);
  const { groups, pinned } = memory;
  return nearestDistances(
    features.map(normalize),
    memory.products,
    memory.k,
    pinned,
    own === undefined ? undefined : (_q, r) => groups[r] === own && !pinned[r],
  );
}

/** z → 0..1: 1 / (1 + e^−(z − 3)). */
export function normalityScoreOfZ(z: number, zMid = NORMALITY_Z_MID): number {
  return 1 / (1 + Math.exp(-(z - zMid)));
}

/**
 * Anomaly scores (0..1) of clip features against a camera's memory: kNN
 * distance, standardised by the memory's own distances, through the logistic.
 * A clip with nothing left to compare to (its own video is the whole memory) scores 0.5.
 */
export function normalityScores(
  features: readonly Vector[],
  memory: NormalMemory,
  options: { excludeVideo?: string | undefined } = {},
): number[] {
  return [...knnDistances(features, memory, options)].map((d) =>
    Number.isNaN(d) ? 0.5 : normalityScoreOfZ((d - memory.center) / memory.scale),
  );
}

/**
 * Scoring mode `fused`: novelty gates, prompts confirm.
 *
 *   fused = n · (1 − (1 − n)(1 − p))      n: normality score, p: prompt anomaly score
 *
 * The second factor is the noisy-OR of the two (evidence of an incident from
 * either); the first makes novelty necessary. So (a) an anomaly no prompt
 * names still scores n² (n = 0.9 → 0.81); (b) a scene the camera shows
 * every night scores at most n however strongly a prompt names it (a furnace
 * CLIP calls "explosion": n = 0.05, p = 1 → 0.05); (c) where both agree the
 * score is highest: it rises with each of n and p and reaches n when p = 1,
 * so a prompt that names a novel clip lowers the novelty needed to alarm
 * (threshold 0.5: n ≥ 0.71 alone, n ≥ 0.5 with p = 1).
 */
export function fuseScores(normality: number, prompts: number): number {
  const n = Math.min(1, Math.max(0, normality));
  const p = Math.min(1, Math.max(0, prompts));
  return n * (1 - (1 - n) * (1 - p));
}

/** Candidates beyond this many times the cap are thinned (evenly spaced) before the coreset is chosen. */
export const CORESET_CANDIDATES_PER_FEATURE = 4;

/**
 * The memory cap: indices of at most `max` features by greedy farthest-point
 * (k-center) selection: the `seeds` first (false alarms an operator marked:
 * they stay), then again and again the feature farthest (cosine distance)
 * from all chosen, so rare normal states are kept and repeats of the usual
 * scene dropped. Exact greedy, sped up by the triangle inequality (on the
 * unit sphere's chord distance): a candidate is measured against a new
 * feature only when the new feature is within twice its current distance of
 * the feature it is nearest to, which on a camera's clustered footage is
 * rarely. Beyond 4 × max candidates, evenly spaced 4 × max of them (and
 * every seed) are the candidates, which bounds the time: a state lasting
 * longer than the spacing is still among them. Deterministic; all indices
 * when there are at most `max`.
 */
export function farthestPointCoreset(
  features: readonly Vector[],
  max: number,
  seeds: readonly number[] = [],
  options: { simd?: boolean } = {},
): number[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  if (features.length <= max) return features.map((_, i) => i);
  const seedSet = new Set(seeds.filter((s) => Number.isInteger(s) && s >= 0 && s < features.length));
  if (seedSet.size >= max) {
    const ordered = [...seedSet].sort((a, b) => a - b);
    return farthestPointCoreset(
      ordered.map((i) => features[i] as Vector),
      max,
      [],
      options,
    ).map((j) => ordered[j] as number);
  }
  const limit = CORESET_CANDIDATES_PER_FEATURE * max;
  let candidates = features.map((_, i) => i);
  if (candidates.length > limit) {
    const spaced = new Set(Array.from({ length: limit }, (_, i) => Math.floor((i * features.length) / limit)));
    for (const seed of seedSet) spaced.add(seed);
    candidates = [...spaced].sort((a, b) => a - b);
  }
  const n = candidates.length;
  const dim = features[0]?.length ?? 0;
  const simd = options.simd === undefined ? {} : { simd: options.simd };
  const matrix = new Float32Array(n * dim);
  for (const [i, c] of candidates.entries()) matrix.set(normalize(features[c] as Vector), i * dim);
  const all = new DotProducts(matrix, dim, simd);
  const centres = new DotProducts(new Float32Array(max * dim), dim, simd);
  /**
   * Each candidate's cosine distance to its nearest chosen feature, which one
   * that is (its order among the chosen), and twice its chord distance to it
   * (e = √(2·cosine distance)), the bound below.
   */
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const owner = new Int32Array(n).fill(-1);
  const bound = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const taken = new Uint8Array(n);
  const chosen: number[] = [];
  const toCentres = new Float32Array(max);
  const chordTo = new Float64Array(max);
  const toAll = new Float32Array(n);
  const measure = new Int32Array(n);
  const update = (j: number, dot: number, m: number) => {
    const d = Math.max(0, 1 - dot);
    if (d < (nearest[j] as number)) {
      nearest[j] = d;
      owner[j] = m;
      bound[j] = 2 * Math.sqrt(2 * d);
    }
  };
  /** Takes candidate i; returns the farthest candidate left (-1: none). */
  const take = (i: number): number => {
    const m = chosen.length;
    const vector = matrix.subarray(i * dim, (i + 1) * dim);
    taken[i] = 1;
    chosen.push(candidates[i] as number);
    centres.setRow(m, vector);
    centres.one(vector, toCentres, m);
    for (let a = 0; a < m; a++) chordTo[a] = Math.sqrt(Math.max(0, 2 - 2 * (toCentres[a] as number)));
    // A candidate x nearest to centre a cannot come nearer the new centre c when
    // e(c, a) ≥ 2·e(x, a): by the triangle inequality e(x, c) ≥ e(c, a) − e(x, a) ≥ e(x, a).
    let count = 0;
    for (let j = 0; j < n; j++) {
      if (taken[j]) continue;
      const a = owner[j] as number;
      if (a < 0 || (chordTo[a] as number) < (bound[j] as number)) measure[count++] = j;
    }
    if (count > n / 8) {
      all.one(vector, toAll);
      for (let p = 0; p < count; p++) {
        const j = measure[p] as number;
        update(j, toAll[j] as number, m);
      }
    } else {
      for (let p = 0; p < count; p++) {
        const j = measure[p] as number;
        const base = j * dim;
        let dot = 0;
        for (let t = 0; t < dim; t++) dot += (matrix[base + t] as number) * (vector[t] as number);
        update(j, dot, m);
      }
    }
    let far = -1;
    let farthest = -1;
    for (let j = 0; j < n; j++) {
      if (!taken[j] && (nearest[j] as number) > farthest) {
        farthest = nearest[j] as number;
        far = j;
      }
    }
    return far;
  };
  let next = -1;
  for (const [i, c] of candidates.entries()) if (seedSet.has(c)) next = take(i);
  if (!chosen.length) next = take(0);
  while (chosen.length < max && next >= 0) next = take(next);
  return chosen.sort((a, b) => a - b);
}

/** A video's clip scores (smoothed, as stored) for calibration. */
export interface CalibrationVideo {
  /** Footage length: what "per hour" counts. */
  durationMs: number;
  clips: readonly TimedScore[];
}

export interface CalibrationOptions extends Omit<EventOptions, 'threshold'> {
  /** Events per hour of footage the threshold may let through on these scores. */
  maxEventsPerHour: number;
  /** Candidate thresholds are multiples of this (default 0.001) in (0, 1). */
  step?: number;
}

export interface Calibration {
  threshold: number;
  /** Events the threshold gives on these scores, the footage's hours, and their ratio. */
  events: number;
  hours: number;
  eventsPerHour: number;
}

/** How many events extractEvents finds at `threshold` on clips sorted by start (then end): the same merge and minimum length, without building them. */
function countEvents(
  sorted: readonly TimedScore[],
  threshold: number,
  options: Omit<EventOptions, 'threshold'>,
): number {
  let count = 0;
  let open = false;
  let start = 0;
  let end = 0;
  for (const c of sorted) {
    if (c.score < threshold) continue;
    if (open && c.startMs <= end + options.mergeGapMs) {
      end = Math.max(end, c.endMs);
      continue;
    }
    if (open && end - start >= options.minDurationMs) count++;
    open = true;
    start = c.startMs;
    end = c.endMs;
  }
  if (open && end - start >= options.minDurationMs) count++;
  return count;
}

/**
 * The lowest event threshold at which these videos' scores give at most
 * `maxEventsPerHour` events per hour of footage, simulating event extraction
 * (`extractEvents` with the same minimum duration and merge gap) at each
 * candidate threshold from the top down. The count is not monotone in the
 * threshold (raising it can split one event in two), so the answer is the
 * lowest candidate at and above which every candidate keeps the rate.
 * Throws a RangeError when there is no footage, or when even the highest
 * candidate lets through more.
 */
export function calibrateThreshold(videos: readonly CalibrationVideo[], options: CalibrationOptions): Calibration {
  const step = options.step ?? 0.001;
  const hours = videos.reduce((sum, v) => sum + Math.max(0, v.durationMs), 0) / 3_600_000;
  if (!(hours > 0)) throw new RangeError('no footage to calibrate on');
  if (!(options.maxEventsPerHour >= 0)) throw new RangeError('maxEventsPerHour must be 0 or more');
  const budget = options.maxEventsPerHour * hours;
  const sorted = videos.map((v) => [...v.clips].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs));
  const eventsAt = (threshold: number) =>
    sorted.reduce((sum, clips) => sum + countEvents(clips, threshold, options), 0);
  const steps = Math.round(1 / step);
  let chosen: { threshold: number; events: number } | undefined;
  for (let i = steps - 1; i >= 1; i--) {
    const threshold = Number((i * step).toFixed(6));
    const events = eventsAt(threshold);
    if (events > budget) break;
    chosen = { threshold, events };
  }
  if (!chosen) {
    const top = Number(((steps - 1) * step).toFixed(6));
    throw new RangeError(
      `even threshold ${top} gives ${eventsAt(top)} events in ${hours.toFixed(2)} h of footage, more than ${options.maxEventsPerHour} per hour`,
    );
  }
  return { ...chosen, hours, eventsPerHour: chosen.events / hours };
}

/** Whether a clip [startMs, endMs) overlaps any of the spans. */
export function overlapsAny(
  clip: { startMs: number; endMs: number },
  spans: readonly { startMs: number; endMs: number }[],
) {
  return spans.some((s) => clip.startMs < s.endMs && s.startMs < clip.endMs);
}
