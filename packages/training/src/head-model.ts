import { SeededRandom } from '@vad/models';
import { tf } from './backend.js';

/**
 * The learned temporal head, per video (a sequence of N clip features of
 * width D):
 *
 *   z = clips · Wp                      per-clip projection D → P (no bias)
 *   h = ReLU(Conv1D_k3(z) + bc)         kernel 3 over the clip sequence, same (zero) padding, P → H
 *   o = h · Wo + bo                     H → 1 + C
 *   score = sigmoid(o[0]), logits = o[1..C]
 *
 * The projection makes the Conv1D a factorised one (rank P): it sees the
 * clip before and after each clip like a D → H kernel-3 convolution, at
 * P·(D + 3H) instead of 3·D·H multiply-adds per clip (about a third at
 * D = 512, P = H = 32). With no projection bias a zero (padding) clip
 * projects to zero, so padding the clip sequence and padding the projected
 * one are the same.
 */
export interface HeadShape {
  /** D: width of a clip feature (the embedding model's). */
  embeddingSize: number;
  /** P: projection width. */
  projection: number;
  /** H: convolution channels. */
  hidden: number;
  /** C: classes, normal first. */
  classes: number;
}

/** Plain arrays of a head's parameters (row-major), what the ONNX export writes. */
export interface HeadWeights {
  shape: HeadShape;
  /** [D, P] */
  projection: Float32Array;
  /** [3P, H]: rows 0..P-1 the previous clip's tap, P..2P-1 this clip's, 2P..3P-1 the next clip's. */
  conv: Float32Array;
  /** [H] */
  convBias: Float32Array;
  /** [H, 1 + C]: column 0 the score's logit, 1..C the class logits. */
  output: Float32Array;
  /** [1 + C] */
  outputBias: Float32Array;
}

/** Clips of several videos laid end to end, with where each clip's neighbours are. */
export interface ClipRows {
  /** [M + 1, D]: the clips, then one zero row that borders point to. */
  features: tf.Tensor2D;
  /** For each clip row used: its own row, the previous clip's and the next clip's (M, the zero row, at a border). */
  previous: Int32Array;
  current: Int32Array;
  next: Int32Array;
}

/** Glorot-uniform initialisation from a seeded generator: the same seed gives the same head. */
function glorot(random: SeededRandom, fanIn: number, fanOut: number, count = fanIn * fanOut): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * random.uniform() - 1) * limit;
  return out;
}

export function initialWeights(shape: HeadShape, seed: number): HeadWeights {
  const random = new SeededRandom(seed);
  const { embeddingSize: D, projection: P, hidden: H, classes: C } = shape;
  return {
    shape,
    projection: glorot(random, D, P),
    conv: glorot(random, 3 * P, H),
    convBias: new Float32Array(H),
    output: glorot(random, H, 1 + C),
    outputBias: new Float32Array(1 + C),
  };
}

export class HeadModel {
  readonly shape: HeadShape;
  readonly projection: tf.Variable;
  readonly conv: tf.Variable;
  readonly convBias: tf.Variable;
  readonly output: tf.Variable;
  readonly outputBias: tf.Variable;

  constructor(weights: HeadWeights) {
    const { embeddingSize: D, projection: P, hidden: H, classes: C } = weights.shape;
    this.shape = weights.shape;
    this.projection = tf.variable(tf.tensor2d(weights.projection, [D, P]), true, 'projection');
    this.conv = tf.variable(tf.tensor2d(weights.conv, [3 * P, H]), true, 'conv');
    this.convBias = tf.variable(tf.tensor1d(weights.convBias), true, 'conv_bias');
    this.output = tf.variable(tf.tensor2d(weights.output, [H, 1 + C]), true, 'output');
    this.outputBias = tf.variable(tf.tensor1d(weights.outputBias), true, 'output_bias');
  }

  get variables(): tf.Variable[] {
    return [this.projection, this.conv, this.convBias, this.output, this.outputBias];
  }

  /** A copy of the current parameters. */
  weights(): HeadWeights {
    const copy = (v: tf.Variable) => new Float32Array(v.dataSync());
    return {
      shape: this.shape,
      projection: copy(this.projection),
      conv: copy(this.conv),
      convBias: copy(this.convBias),
      output: copy(this.output),
      outputBias: copy(this.outputBias),
    };
  }

  setWeights(weights: HeadWeights): void {
    this.projection.assign(tf.tensor(weights.projection, this.projection.shape));
    this.conv.assign(tf.tensor(weights.conv, this.conv.shape));
    this.convBias.assign(tf.tensor(weights.convBias, this.convBias.shape));
    this.output.assign(tf.tensor(weights.output, this.output.shape));
    this.outputBias.assign(tf.tensor(weights.outputBias, this.outputBias.shape));
  }

  /**
   * [rows, 1 + C] outputs (score logit, class logits) of the clips at
   * `rows.current`, from their own and their neighbours' features. Only the
   * rows asked for are projected (each window's three clips), so a training
   * step that needs a few clips of a long video costs a few clips; the
   * gather is of the (constant) features, so gradients never pass through it.
   */
  outputs(rows: ClipRows, dropout?: { rate: number; seed: number }): tf.Tensor2D {
    return tf.tidy(() => {
      const n = rows.current.length;
      const index = new Int32Array(3 * n);
      index.set(rows.previous, 0);
      index.set(rows.current, n);
      index.set(rows.next, 2 * n);
      const gathered = tf.gather(rows.features, tf.tensor1d(index, 'int32'));
      const taps = tf.split(tf.matMul(gathered, this.projection), 3, 0);
      return this.head(tf.concat(taps, 1) as tf.Tensor2D, dropout);
    });
  }

  /**
   * The same outputs for every clip of `rows` (no gradients: scoring, and
   * the pass that picks a training step's clips): each clip is projected
   * once and its window gathered from the projections, a third of the work
   * of `outputs` on whole videos.
   */
  outputsAll(rows: ClipRows): tf.Tensor2D {
    return tf.tidy(() => {
      const projected = tf.matMul(rows.features, this.projection);
      const taps = [rows.previous, rows.current, rows.next].map((index) =>
        tf.gather(projected, tf.tensor1d(index, 'int32')),
      );
      return this.head(tf.concat(taps, 1) as tf.Tensor2D);
    });
  }

  /** From the [rows, 3P] windows of projected clips: convolution, ReLU, (dropout,) output layer. */
  private head(window: tf.Tensor2D, dropout?: { rate: number; seed: number }): tf.Tensor2D {
    const activations = tf.relu(tf.add(tf.matMul(window, this.conv), this.convBias));
    // Training only: seeded, so a step is the same every run.
    const hidden = dropout?.rate ? tf.dropout(activations, dropout.rate, undefined, dropout.seed) : activations;
    return tf.add(tf.matMul(hidden, this.output), this.outputBias) as tf.Tensor2D;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Lays videos' clip features end to end (plus the zero row) and finds every clip's neighbours. */
export function clipRows(
  videos: readonly { features: Float32Array; clips: number }[],
  embeddingSize: number,
): ClipRows & { offsets: number[] } {
  const total = videos.reduce((sum, v) => sum + v.clips, 0);
  const data = new Float32Array((total + 1) * embeddingSize);
  const previous = new Int32Array(total);
  const current = new Int32Array(total);
  const next = new Int32Array(total);
  const offsets: number[] = [];
  let row = 0;
  for (const item of videos) {
    offsets.push(row);
    data.set(item.features.subarray(0, item.clips * embeddingSize), row * embeddingSize);
    for (let t = 0; t < item.clips; t++, row++) {
      current[row] = row;
      previous[row] = t === 0 ? total : row - 1;
      next[row] = t === item.clips - 1 ? total : row + 1;
    }
  }
  return {
    features: tf.tensor2d(data, [total + 1, embeddingSize]),
    previous,
    current,
    next,
    offsets,
  };
}

/** Scores and class logits of whole videos (inference): per video, N scores and N × C logits. */
export function predictVideos(
  model: HeadModel,
  videos: readonly { features: Float32Array; clips: number }[],
): { scores: Float32Array; logits: Float32Array }[] {
  const C = model.shape.classes;
  const rows = clipRows(videos, model.shape.embeddingSize);
  try {
    const out = model.outputsAll(rows);
    const values = out.dataSync();
    out.dispose();
    return videos.map((video, v) => {
      const start = rows.offsets[v] as number;
      const scores = new Float32Array(video.clips);
      const logits = new Float32Array(video.clips * C);
      for (let t = 0; t < video.clips; t++) {
        const base = (start + t) * (1 + C);
        scores[t] = 1 / (1 + Math.exp(-(values[base] as number)));
        logits.set(values.subarray(base + 1, base + 1 + C), t * C);
      }
      return { scores, logits };
    });
  } finally {
    rows.features.dispose();
  }
}
