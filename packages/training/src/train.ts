import { SeededRandom } from '@vad/models';
import { rocAuc } from './auc.js';
import { type TrainingBackend, tf, useBackend } from './backend.js';
import { type ClipRows, clipRows, HeadModel, type HeadWeights, initialWeights, predictVideos } from './head-model.js';
import { checkTrainable, isPositive, TrainingDataError, type TrainingSet, type TrainingVideo } from './training-set.js';

/**
 * `topk`: multiple-instance learning with top-k pooling (the mean score of a
 * video's k highest-scoring clips, k = max(1, ⌊N/16⌋), against its label,
 * binary cross-entropy), as RTFM / MGFN and most weakly supervised VAD since
 * do. `ranking`: Sultani et al. 2018's MIL ranking loss (the top clip of
 * each anomalous video above the top clip of each normal one by a margin of
 * 1, hinge), with its smoothness and sparsity terms.
 */
export type MilLoss = 'topk' | 'ranking';

export interface TrainOptions {
  /** Seeds initialisation, the train/validation split and the batch order. Default 1. */
  seed?: number;
  /**
   * At most this many epochs. An epoch is one pass over the training videos,
   * repeated until it has taken at least MIN_STEPS_PER_EPOCH optimiser steps
   * (so a set of a dozen videos still learns in a few epochs). Default 30.
   */
  epochs?: number;
  /** Videos per optimiser step. Default 8. */
  batchVideos?: number;
  /** Share of the videos (each kind alike) held out for validation and early stopping; 0 for none. Default 0.2. */
  validationFraction?: number;
  /** Stop after this many epochs without a higher validation AUC. Default 5. */
  patience?: number;
  /** H, the convolution's channels (P, the projection's width, is the same). Default 32. */
  hidden?: number;
  /** Adam's learning rate. Default 0.001. */
  learningRate?: number;
  loss?: MilLoss;
  /** Weight of the class cross-entropy (top-k clips of a classed video; labelled clips). Default 0.5. */
  classWeight?: number;
  /** Weight of the per-clip cross-entropy on labelled clips (frame annotations, reviews). Default 1. */
  clipWeight?: number;
  /** Dropout on the convolution's activations while training. Default 0.3. */
  dropout?: number;
  /** L2 penalty on the weights (not the biases). Default 1e-4. */
  weightDecay?: number;
  /** tfjs backend; default wasm. */
  backend?: TrainingBackend;
  onEpoch?: (report: EpochReport) => void;
}

export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'onEpoch'>>;

export interface EpochReport {
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  validationAuc: number | undefined;
  validationLoss: number | undefined;
  /** This epoch's head is the best so far (the one kept). */
  best: boolean;
  seconds: number;
}

/**
 * How validation was measured: per clip where validation videos have frame
 * annotations (their labelled clips, and all clips of normal videos), else
 * per video (its highest clip score against its label).
 */
export type ValidationKind = 'clip' | 'video' | 'none';

export interface TrainResult {
  weights: HeadWeights;
  options: ResolvedTrainOptions;
  epochs: EpochReport[];
  /** The epoch whose head was kept (1-based; the last one without validation). */
  bestEpoch: number;
  validation: { kind: ValidationKind; auc: number | undefined; videos: number };
  split: { train: string[]; validation: string[] };
  seconds: number;
}

export const DEFAULT_TRAIN_OPTIONS: ResolvedTrainOptions = {
  seed: 1,
  epochs: 30,
  batchVideos: 8,
  validationFraction: 0.2,
  patience: 5,
  hidden: 32,
  learningRate: 0.001,
  loss: 'topk',
  classWeight: 0.5,
  clipWeight: 1,
  dropout: 0.3,
  weightDecay: 1e-4,
  backend: 'wasm',
};

/** A small set's epoch makes several passes: at least this many optimiser steps. */
export const MIN_STEPS_PER_EPOCH = 16;

/** Sultani et al.'s λ1 (temporal smoothness) and λ2 (sparsity). */
const SMOOTHNESS = 8e-5;
const SPARSITY = 8e-5;
const EPSILON = 1e-6;

const bump = (array: Float32Array, index: number, by: number) => {
  array[index] = (array[index] as number) + by;
};

/** k of top-k pooling for a video of n clips. */
export const topK = (clips: number) => Math.max(1, Math.floor(clips / 16));

function shuffle<T>(items: T[], random: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Both kinds spread evenly through the list (so every batch holds some of each). */
function interleave<T>(a: T[], b: T[]): T[] {
  const keyed = [
    ...a.map((item, i) => ({ item, key: (i + 0.5) / a.length, side: 0 })),
    ...b.map((item, i) => ({ item, key: (i + 0.5) / b.length, side: 1 })),
  ];
  return keyed.sort((x, y) => x.key - y.key || x.side - y.side).map((k) => k.item);
}

/** Train/validation split by video, stratified by kind (anomalous evidence or not). */
export function splitVideos(
  videos: readonly TrainingVideo[],
  fraction: number,
  random: SeededRandom,
): { train: TrainingVideo[]; validation: TrainingVideo[] } {
  // By name first: the same labels give the same split in another database.
  const key = (v: TrainingVideo) => `${v.name.toLowerCase()}\u0000${v.id}`;
  const sorted = [...videos].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const positive = shuffle(
    sorted.filter((v) => isPositive(v)),
    random,
  );
  const negative = shuffle(
    sorted.filter((v) => !isPositive(v)),
    random,
  );
  if (fraction <= 0) return { train: interleave(positive, negative), validation: [] };
  if (positive.length < 2 || negative.length < 2) {
    throw new TrainingDataError([
      `a validation split needs at least 2 anomalous and 2 normal videos, the set has ${positive.length} and ${negative.length}: ` +
        'add videos, or train without validation (validation fraction 0: no early stopping)',
    ]);
  }
  const held = (n: number) => Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const hp = held(positive.length);
  const hn = held(negative.length);
  return {
    train: interleave(positive.slice(hp), negative.slice(hn)),
    validation: [...positive.slice(0, hp), ...negative.slice(0, hn)],
  };
}

/** The rows a training step takes gradients through, and what each loss term reads from them. */
interface StepPlan {
  rows: number[];
  /** MIL: per video with a label, its top-k rows (positions in `rows`) and its label. */
  bags: { rows: number[]; label: number; top: number }[];
  /** Class targets: (position in `rows`, class, weight). */
  classTargets: { row: number; cls: number; weight: number }[];
  /** Clip labels: (position in `rows`, label). */
  clipTargets: { row: number; label: number }[];
  /** Ranking: each anomalous video's rows in clip order (smoothness, sparsity). */
  sequences: number[][];
}

function planStep(
  batch: readonly TrainingVideo[],
  offsets: readonly number[],
  scoreLogits: Float32Array,
  loss: MilLoss,
): StepPlan {
  const position = new Map<number, number>();
  const rows: number[] = [];
  const at = (row: number) => {
    let p = position.get(row);
    if (p === undefined) {
      p = rows.length;
      position.set(row, p);
      rows.push(row);
    }
    return p;
  };
  const plan: StepPlan = { rows, bags: [], classTargets: [], clipTargets: [], sequences: [] };
  batch.forEach((video, v) => {
    const start = offsets[v] as number;
    const order = Array.from({ length: video.clips }, (_, t) => t).sort(
      (a, b) => (scoreLogits[start + b] as number) - (scoreLogits[start + a] as number) || a - b,
    );
    const k = loss === 'ranking' ? 1 : topK(video.clips);
    const top = order.slice(0, k).map((t) => start + t);
    if (loss === 'ranking' && video.label === 1) {
      plan.sequences.push(Array.from({ length: video.clips }, (_, t) => at(start + t)));
    }
    if (video.label !== null) {
      const bagRows = top.map(at);
      plan.bags.push({ rows: bagRows, label: video.label, top: bagRows[0] as number });
      const cls = video.label === 0 ? 0 : video.classIndex;
      if (cls >= 0) for (const r of bagRows) plan.classTargets.push({ row: r, cls, weight: 1 / bagRows.length });
    }
    if (video.clipLabels) {
      const labelled = [...video.clipLabels.keys()].filter((t) => (video.clipLabels?.[t] ?? -1) >= 0);
      for (const t of labelled) {
        const label = video.clipLabels[t] as number;
        const r = at(start + t);
        plan.clipTargets.push({ row: r, label });
        const cls = label === 0 ? 0 : (video.clipClasses?.[t] ?? -1);
        if (cls >= 0) plan.classTargets.push({ row: r, cls, weight: 1 / labelled.length });
      }
    }
  });
  return plan;
}

/** The step's loss, as a function of the model's outputs on the plan's rows (taped for gradients). */
function stepLoss(
  model: HeadModel,
  rows: ClipRows,
  plan: StepPlan,
  options: ResolvedTrainOptions,
  dropoutSeed: number,
): tf.Scalar {
  const C = model.shape.classes;
  const S = plan.rows.length;
  const out = model.outputs(rows, { rate: options.dropout, seed: dropoutSeed });
  const [z, logits] = tf.split(out, [1, C], 1) as [tf.Tensor2D, tf.Tensor2D];
  const scores = tf.sigmoid(z); // [S, 1]
  const terms: tf.Scalar[] = [];
  const bags = plan.bags;
  if (options.loss === 'topk' && bags.length) {
    const pooling = new Float32Array(bags.length * S);
    bags.forEach((bag, b) => {
      for (const r of bag.rows) pooling[b * S + r] = 1 / bag.rows.length;
    });
    const pooled = tf.clipByValue(tf.matMul(tf.tensor2d(pooling, [bags.length, S]), scores), EPSILON, 1 - EPSILON);
    const y = tf.tensor2d(
      bags.map((b) => b.label),
      [bags.length, 1],
    );
    const bce = tf.neg(tf.add(tf.mul(y, tf.log(pooled)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pooled)))));
    terms.push(tf.mean(bce));
  }
  if (options.loss === 'ranking') {
    const anomalous = bags.filter((b) => b.label === 1);
    const normal = bags.filter((b) => b.label === 0);
    if (anomalous.length && normal.length) {
      const pairs = anomalous.length * normal.length;
      const difference = new Float32Array(pairs * S);
      let p = 0;
      for (const a of anomalous)
        for (const n of normal) {
          bump(difference, p * S + a.top, 1);
          bump(difference, p * S + n.top, -1);
          p++;
        }
      const margin = tf.matMul(tf.tensor2d(difference, [pairs, S]), scores);
      terms.push(tf.mean(tf.relu(tf.sub(1, margin))));
    }
    const steps = plan.sequences.flatMap((sequence) => sequence.slice(1).map((r, i) => [sequence[i] as number, r]));
    if (steps.length) {
      const delta = new Float32Array(steps.length * S);
      steps.forEach(([a, b], i) => {
        bump(delta, i * S + (a as number), 1);
        bump(delta, i * S + (b as number), -1);
      });
      terms.push(tf.mul(SMOOTHNESS, tf.sum(tf.square(tf.matMul(tf.tensor2d(delta, [steps.length, S]), scores)))));
    }
    const members = new Float32Array(S);
    for (const sequence of plan.sequences) for (const r of sequence) members[r] = 1;
    if (plan.sequences.length) terms.push(tf.mul(SPARSITY, tf.sum(tf.mul(tf.tensor2d(members, [S, 1]), scores))));
  }
  if (plan.clipTargets.length && options.clipWeight > 0) {
    const mask = new Float32Array(S);
    const target = new Float32Array(S);
    for (const { row, label } of plan.clipTargets) {
      mask[row] = 1;
      target[row] = label;
    }
    // Cross-entropy on the logit itself (softplus form: stable for confident clips).
    const perClip = tf.sub(tf.softplus(z), tf.mul(tf.tensor2d(target, [S, 1]), z));
    const masked = tf.div(tf.sum(tf.mul(perClip, tf.tensor2d(mask, [S, 1]))), plan.clipTargets.length);
    terms.push(tf.mul(options.clipWeight, masked));
  }
  if (plan.classTargets.length && options.classWeight > 0) {
    const weights = new Float32Array(S * C);
    let total = 0;
    for (const { row, cls, weight } of plan.classTargets) {
      bump(weights, row * C + cls, weight);
      total += weight;
    }
    const ce = tf.div(tf.neg(tf.sum(tf.mul(tf.tensor2d(weights, [S, C]), tf.logSoftmax(logits)))), total);
    terms.push(tf.mul(options.classWeight, ce));
  }
  if (options.weightDecay > 0) {
    const squares = [model.projection, model.conv, model.output].map((w) => tf.sum(tf.square(w)));
    terms.push(tf.mul(options.weightDecay, tf.addN(squares)));
  }
  return (terms.length ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;
}

interface Evaluation {
  auc: number | undefined;
  kind: ValidationKind;
  /** Top-k MIL cross-entropy of the videos with a label (ties of AUC go to the lower). */
  loss: number | undefined;
}

/** Scores of every clip of `videos`, in chunks of `batch` videos. */
function predictAll(model: HeadModel, videos: readonly TrainingVideo[], batch: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < videos.length; i += batch)
    out.push(...predictVideos(model, videos.slice(i, i + batch)).map((p) => p.scores));
  return out;
}

export function evaluate(model: HeadModel, videos: readonly TrainingVideo[], batch: number): Evaluation {
  if (!videos.length) return { auc: undefined, kind: 'none', loss: undefined };
  const scores = predictAll(model, videos, batch);
  let loss = 0;
  let bags = 0;
  videos.forEach((video, v) => {
    if (video.label === null) return;
    const sorted = [...(scores[v] as Float32Array)].sort((a, b) => b - a);
    const k = topK(video.clips);
    const pooled = Math.min(1 - EPSILON, Math.max(EPSILON, sorted.slice(0, k).reduce((s, x) => s + x, 0) / k));
    loss -= video.label ? Math.log(pooled) : Math.log(1 - pooled);
    bags++;
  });
  // Clip level where frame annotations exist: annotated videos' labelled clips, and every clip of a normal video.
  const clipScores: number[] = [];
  const clipLabels: number[] = [];
  if (videos.some((video) => video.annotated)) {
    videos.forEach((video, v) => {
      const known = video.annotated ? video.clipLabels : video.label === 0 ? new Int8Array(video.clips) : undefined;
      known?.forEach((label, t) => {
        if (label < 0) return;
        clipScores.push(scores[v]?.[t] ?? 0);
        clipLabels.push(label);
      });
    });
  }
  const clipAuc = rocAuc(clipScores, clipLabels);
  if (clipAuc !== undefined) return { auc: clipAuc, kind: 'clip', loss: bags ? loss / bags : undefined };
  const labelled = videos.map((video, v) => ({ video, v })).filter(({ video }) => video.label !== null);
  const videoAuc = rocAuc(
    labelled.map(({ v }) => Math.max(...(scores[v] as Float32Array))),
    labelled.map(({ video }) => video.label as number),
  );
  return { auc: videoAuc, kind: videoAuc === undefined ? 'none' : 'video', loss: bags ? loss / bags : undefined };
}

/**
 * Trains a head on `set`: stratified train/validation split by video, Adam,
 * MIL loss (plus class and clip cross-entropy where labels give them),
 * early stopping on validation AUC (ties to the lower validation loss), the
 * best epoch's weights kept. Deterministic for a seed and backend.
 *
 * Each step scores every clip of its videos once (no gradients), picks the
 * clips the loss reads (each video's top-k, labelled clips; every clip of an
 * anomalous video for the ranking loss's smoothness), and takes gradients
 * through those clips only: the loss does not depend on the other clips, so
 * this is the same gradient as through the whole sequence, at a fraction of
 * the cost.
 */
export async function trainHead(set: TrainingSet, options: TrainOptions = {}): Promise<TrainResult> {
  const { onEpoch, ...given } = options;
  const resolved: ResolvedTrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  };
  checkTrainable(set);
  await useBackend(resolved.backend);
  const started = performance.now();
  const random = new SeededRandom(resolved.seed);
  const { train, validation } = splitVideos(set.videos, resolved.validationFraction, random);
  const shape = {
    embeddingSize: set.embeddingSize,
    projection: resolved.hidden,
    hidden: resolved.hidden,
    classes: set.classes.length,
  };
  const model = new HeadModel(initialWeights(shape, resolved.seed));
  const optimizer = tf.train.adam(resolved.learningRate);
  const epochs: EpochReport[] = [];
  let best: { weights: HeadWeights; epoch: number; auc: number | undefined; loss: number } | undefined;
  let validationKind: ValidationKind = 'none';
  let lastRise = 0;
  try {
    for (let epoch = 1; epoch <= resolved.epochs; epoch++) {
      const epochStarted = performance.now();
      const batches: TrainingVideo[][] = [];
      while (batches.length < MIN_STEPS_PER_EPOCH) {
        const positives = shuffle(
          train.filter((v) => isPositive(v)),
          random,
        );
        const negatives = shuffle(
          train.filter((v) => !isPositive(v)),
          random,
        );
        const order = interleave(positives, negatives);
        for (let i = 0; i < order.length; i += resolved.batchVideos)
          batches.push(order.slice(i, i + resolved.batchVideos));
      }
      let lossSum = 0;
      let steps = 0;
      for (const batch of batches) {
        const all = clipRows(batch, set.embeddingSize);
        try {
          const firstPass = tf.tidy(() => tf.slice(model.outputsAll(all), [0, 0], [-1, 1]));
          const scoreLogits = firstPass.dataSync() as Float32Array;
          firstPass.dispose();
          const plan = planStep(batch, all.offsets, scoreLogits, resolved.loss);
          if (!plan.rows.length) continue;
          const rows: ClipRows = {
            features: all.features,
            current: Int32Array.from(plan.rows),
            previous: Int32Array.from(plan.rows, (r) => all.previous[r] as number),
            next: Int32Array.from(plan.rows, (r) => all.next[r] as number),
          };
          const dropoutSeed = Math.floor(random.uniform() * 2 ** 31);
          const cost = optimizer.minimize(
            () => stepLoss(model, rows, plan, resolved, dropoutSeed),
            true,
            model.variables,
          );
          lossSum += cost ? (cost.dataSync()[0] as number) : 0;
          cost?.dispose();
          steps++;
        } finally {
          all.features.dispose();
        }
      }
      const evaluation = evaluate(model, validation, resolved.batchVideos);
      if (evaluation.kind !== 'none') validationKind = evaluation.kind;
      const auc = evaluation.auc;
      const valLoss = evaluation.loss ?? Number.POSITIVE_INFINITY;
      // Patience counts epochs since the validation AUC last rose; among epochs of equal AUC the
      // lower validation loss is kept (a saturated AUC stops training, with the most confident head).
      const higher = !best || (auc !== undefined && (best.auc === undefined || auc > best.auc + 1e-9));
      const improved =
        higher ||
        (best !== undefined && auc === best.auc && valLoss < best.loss) ||
        (auc === undefined && best?.auc === undefined);
      if (higher) lastRise = epoch;
      if (improved) best = { weights: model.weights(), epoch, auc, loss: valLoss };
      const report: EpochReport = {
        epoch,
        loss: steps ? lossSum / steps : 0,
        validationAuc: auc,
        validationLoss: evaluation.loss,
        best: improved,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      epochs.push(report);
      onEpoch?.(report);
      if (validation.length && epoch - lastRise >= resolved.patience) break;
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  if (!best) throw new Error('no epoch was trained');
  return {
    weights: best.weights,
    options: resolved,
    epochs,
    bestEpoch: best.epoch,
    validation: { kind: validationKind, auc: best.auc, videos: validation.length },
    split: { train: train.map((v) => v.id), validation: validation.map((v) => v.id) },
    seconds: (performance.now() - started) / 1000,
  };
}
