import type { TimeSpan } from './frame-scores.js';

/** Scores as stored (float32) or computed (float64). */
export type ScoreArray = Float32Array | Float64Array;
/** How much each sample counts (a run of n equal frames counts n); unset = 1 each. */
export type WeightArray = Float32Array | Float64Array | Uint32Array | Int32Array;

/**
 * The counts every threshold metric is read from (sklearn's
 * `_binary_clf_curve`): the distinct scores, highest first, and the
 * positive and negative weight at or above each. Ties share a threshold,
 * so equal scores are never split.
 */
export interface BinaryCurve {
  thresholds: Float64Array;
  /** Positive weight with score ≥ thresholds[k]. */
  tps: Float64Array;
  /** Negative weight with score ≥ thresholds[k]. */
  fps: Float64Array;
  positives: number;
  negatives: number;
}

/** Index of the first element of sorted `values[0..length)` that is ≥ x. */
function lowerBound(values: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Builds the curve in O(n log n) on typed arrays: the distinct scores come
 * from a native numeric sort of a copy, each sample finds its score by
 * binary search, and positive/negative weight is summed per distinct score.
 */
export function binaryCurve(scores: ScoreArray, labels: Uint8Array, weights?: WeightArray): BinaryCurve {
  const n = scores.length;
  if (labels.length !== n || (weights && weights.length !== n)) {
    throw new RangeError(`scores (${n}), labels (${labels.length}) and weights (${weights?.length}) differ in length`);
  }
  const sorted = Float64Array.from(scores);
  sorted.sort();
  if (n && Number.isNaN(sorted[n - 1] as number)) throw new RangeError('a score is NaN');
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (k === 0 || (sorted[i] as number) !== (sorted[k - 1] as number)) sorted[k++] = sorted[i] as number;
  }
  const pos = new Float64Array(k);
  const neg = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] as number) : 1;
    if (!(w >= 0)) throw new RangeError(`weight ${w} at ${i} is not 0 or more`);
    const at = lowerBound(sorted, k, scores[i] as number);
    if (labels[i]) pos[at] = (pos[at] as number) + w;
    else neg[at] = (neg[at] as number) + w;
  }
  const thresholds = new Float64Array(k);
  const tps = new Float64Array(k);
  const fps = new Float64Array(k);
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < k; j++) {
    const from = k - 1 - j;
    tp += pos[from] as number;
    fp += neg[from] as number;
    thresholds[j] = sorted[from] as number;
    tps[j] = tp;
    fps[j] = fp;
  }
  return { thresholds, tps, fps, positives: tp, negatives: fp };
}

const curveOf = (input: BinaryCurve | ScoreArray, labels?: Uint8Array, weights?: WeightArray): BinaryCurve =>
  input instanceof Float32Array || input instanceof Float64Array
    ? binaryCurve(input, labels ?? new Uint8Array(input.length), weights)
    : input;

/**
 * Area under the ROC curve: the probability that a random positive scores
 * above a random negative, ties counting one half (the Mann–Whitney U
 * statistic with midranks, equal to the trapezoids under sklearn's
 * roc_curve, i.e. roc_auc_score). NaN when positives or negatives are missing.
 */
export function rocAuc(input: BinaryCurve | ScoreArray, labels?: Uint8Array, weights?: WeightArray): number {
  const curve = curveOf(input, labels, weights);
  const { tps, fps, positives, negatives } = curve;
  if (!positives || !negatives) return Number.NaN;
  // Walking thresholds from the highest: each group of positives beats the
  // negatives below it (negatives - fps) and ties half of its own.
  let sum = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let j = 0; j < tps.length; j++) {
    const p = (tps[j] as number) - prevTp;
    const q = (fps[j] as number) - prevFp;
    sum += p * (negatives - (fps[j] as number) + q / 2);
    prevTp = tps[j] as number;
    prevFp = fps[j] as number;
  }
  return sum / (positives * negatives);
}

/**
 * Average precision as sklearn's average_precision_score: the step sum
 * Σₖ (Rₖ − Rₖ₋₁) Pₖ over the distinct thresholds from the highest, R₀ = 0,
 * no interpolation. NaN without positives.
 */
export function averagePrecision(input: BinaryCurve | ScoreArray, labels?: Uint8Array, weights?: WeightArray): number {
  const { tps, fps, positives } = curveOf(input, labels, weights);
  if (!positives) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let j = 0; j < tps.length; j++) {
    const tp = tps[j] as number;
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / (tp + (fps[j] as number)));
    prevRecall = recall;
  }
  return ap;
}

/**
 * The area under the precision–recall curve by trapezoids, as XD-Violence's
 * own evaluation code computes its "AP" (sklearn `auc(recall, precision)`
 * on `precision_recall_curve`, which starts at recall 0, precision 1). A
 * little higher than averagePrecision, which most later papers report.
 */
export function prAucTrapezoid(input: BinaryCurve | ScoreArray, labels?: Uint8Array, weights?: WeightArray): number {
  const { tps, fps, positives } = curveOf(input, labels, weights);
  if (!positives) return Number.NaN;
  let area = 0;
  let prevRecall = 0;
  let prevPrecision = 1;
  for (let j = 0; j < tps.length; j++) {
    const tp = tps[j] as number;
    const recall = tp / positives;
    const precision = tp / (tp + (fps[j] as number));
    area += ((recall - prevRecall) * (precision + prevPrecision)) / 2;
    prevRecall = recall;
    prevPrecision = precision;
  }
  return area;
}

/** Points of a curve, x and y in 0..1. */
export interface CurvePoints {
  x: Float64Array;
  y: Float64Array;
}

/**
 * At most `maxPoints` of the points, keeping the curve's shape: the first
 * and last, and each point at least 1/(maxPoints − 1) of the curve's
 * length (in |dx| + |dy|) after the last one kept.
 */
export function downsample(points: CurvePoints, maxPoints = 1000): CurvePoints {
  const n = points.x.length;
  if (n <= maxPoints) return points;
  let length = 0;
  for (let i = 1; i < n; i++) {
    length +=
      Math.abs((points.x[i] as number) - (points.x[i - 1] as number)) +
      Math.abs((points.y[i] as number) - (points.y[i - 1] as number));
  }
  const step = length / (maxPoints - 2);
  const keep: number[] = [0];
  let travelled = 0;
  for (let i = 1; i < n - 1 && keep.length < maxPoints - 1; i++) {
    travelled +=
      Math.abs((points.x[i] as number) - (points.x[i - 1] as number)) +
      Math.abs((points.y[i] as number) - (points.y[i - 1] as number));
    if (travelled >= step) {
      keep.push(i);
      travelled = 0;
    }
  }
  keep.push(n - 1);
  return {
    x: Float64Array.from(keep, (i) => points.x[i] as number),
    y: Float64Array.from(keep, (i) => points.y[i] as number),
  };
}

/** ROC points (false-positive rate, true-positive rate) from (0, 0), one per distinct threshold, downsampled. */
export function rocCurve(curve: BinaryCurve, maxPoints = 1000): CurvePoints {
  const k = curve.tps.length;
  const x = new Float64Array(k + 1);
  const y = new Float64Array(k + 1);
  for (let j = 0; j < k; j++) {
    x[j + 1] = curve.negatives ? (curve.fps[j] as number) / curve.negatives : 0;
    y[j + 1] = curve.positives ? (curve.tps[j] as number) / curve.positives : 0;
  }
  return downsample({ x, y }, maxPoints);
}

/** Precision–recall points (recall, precision) from (0, 1), one per distinct threshold, downsampled. */
export function prCurve(curve: BinaryCurve, maxPoints = 1000): CurvePoints {
  const k = curve.tps.length;
  const x = new Float64Array(k + 1);
  const y = new Float64Array(k + 1);
  y[0] = 1;
  for (let j = 0; j < k; j++) {
    const tp = curve.tps[j] as number;
    x[j + 1] = curve.positives ? tp / curve.positives : 0;
    y[j + 1] = tp / (tp + (curve.fps[j] as number));
  }
  return downsample({ x, y }, maxPoints);
}

/** The share of the weight whose score is at or above the threshold (NaN with no weight). */
export function shareAtOrAbove(scores: ScoreArray, weights: WeightArray | undefined, threshold: number): number {
  let above = 0;
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const w = weights ? (weights[i] as number) : 1;
    total += w;
    if ((scores[i] as number) >= threshold) above += w;
  }
  return total ? above / total : Number.NaN;
}

/** Intersection over union of two time spans (0 when they do not meet). */
export function spanIoU(a: TimeSpan, b: TimeSpan): number {
  const inter = Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
  if (inter <= 0) return 0;
  return inter / (Math.max(a.endMs, b.endMs) - Math.min(a.startMs, b.startMs));
}

export interface ScoredSpan extends TimeSpan {
  score: number;
}

/**
 * One video's predicted events matched to its ground-truth events, greedily
 * by score: from the highest-scoring prediction down, each takes the
 * unmatched ground-truth event it overlaps most, if their IoU is at least
 * `minIoU`. `truth` is sorted by start and does not overlap (as
 * groundTruthSpans gives it). Returns the matches (true positives).
 */
export function matchEvents(predicted: readonly ScoredSpan[], truth: readonly TimeSpan[], minIoU = 0.5): number {
  const taken = new Uint8Array(truth.length);
  const order = [...predicted.keys()].sort(
    (a, b) =>
      (predicted[b] as ScoredSpan).score - (predicted[a] as ScoredSpan).score ||
      (predicted[a] as ScoredSpan).startMs - (predicted[b] as ScoredSpan).startMs,
  );
  let matched = 0;
  for (const p of order) {
    const event = predicted[p] as ScoredSpan;
    // Candidates overlap the event: from the first truth ending after its start, while they start before its end.
    let lo = 0;
    let hi = truth.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((truth[mid] as TimeSpan).endMs <= event.startMs) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    let bestIoU = 0;
    for (let t = lo; t < truth.length && (truth[t] as TimeSpan).startMs < event.endMs; t++) {
      if (taken[t]) continue;
      const iou = spanIoU(event, truth[t] as TimeSpan);
      if (iou >= minIoU && iou > bestIoU) {
        best = t;
        bestIoU = iou;
      }
    }
    if (best >= 0) {
      taken[best] = 1;
      matched++;
    }
  }
  return matched;
}

/** Precision, recall and F1 from counts (NaN where a denominator is 0). */
export function precisionRecall(truePositives: number, predicted: number, actual: number) {
  const precision = predicted ? truePositives / predicted : Number.NaN;
  const recall = actual ? truePositives / actual : Number.NaN;
  let f1 = Number.NaN;
  if (!Number.isNaN(precision) && !Number.isNaN(recall)) {
    f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return { precision, recall, f1 };
}

/**
 * False alarms per hour: predicted events on normal videos (every one of
 * them is false) per hour of normal footage. NaN without normal footage.
 */
export function falseAlarmsPerHour(eventsOnNormal: number, normalMs: number): number {
  return normalMs > 0 ? eventsOnNormal / (normalMs / 3_600_000) : Number.NaN;
}
