import * as ort from 'onnxruntime-node';
import { DECODER_INPUTS, type DecoderIo, DecoderLayoutError, emptyPast } from './decoder-io.js';
import type { LogitsSource } from './generation.js';

export interface DecoderSessions {
  /** The first-step decoder (or the only one: no-cache, merged). */
  first: ort.InferenceSession;
  /** The with-past decoder of the `with-past` layout. */
  withPast?: ort.InferenceSession | undefined;
}

type TensorData = Float32Array | Uint16Array | BigInt64Array | Uint8Array;

/** Rows `rows` of a tensor (along its first dimension), copied. */
export function gatherRows(tensor: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const data = tensor.data as TensorData;
  const [count = 0, ...rest] = tensor.dims;
  const size = count ? data.length / count : 0;
  const out = new (data.constructor as new (length: number) => TensorData)(rows.length * size);
  rows.forEach((row, i) => {
    if (row < 0 || row >= count) throw new RangeError(`row ${row} of ${count}`);
    out.set(data.subarray(row * size, (row + 1) * size) as never, i * size);
  });
  return new ort.Tensor(tensor.type as 'float32', out as Float32Array, [rows.length, ...rest]);
}

/** IEEE half-precision bits → number. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The logits of the last position of each row: [N,T,V] → N×V float32. */
function lastPosition(logits: ort.Tensor): Float32Array {
  const [rows = 0, positions = 0, vocabulary = 0] = logits.dims;
  if (logits.dims.length !== 3) throw new DecoderLayoutError(`logits have shape [${logits.dims}]; [N,T,V] expected`);
  const out = new Float32Array(rows * vocabulary);
  const data = logits.data;
  for (let r = 0; r < rows; r++) {
    const from = (r * positions + positions - 1) * vocabulary;
    if (logits.type === 'float32') out.set((data as Float32Array).subarray(from, from + vocabulary), r * vocabulary);
    else if (logits.type === 'float16') {
      const half = data as Uint16Array;
      for (let v = 0; v < vocabulary; v++) out[r * vocabulary + v] = halfToFloat(half[from + v] as number);
    } else throw new DecoderLayoutError(`logits are ${logits.type}; float32 or float16 expected`);
  }
  return out;
}

const ones = (rows: number, columns: number) =>
  new ort.Tensor('int64', new BigInt64Array(rows * columns).fill(1n), [rows, columns]);

/**
 * Runs a decoder export step by step for generation: the logits source of
 * one batch. It keeps the encoder's hidden states and, with a cache, the
 * past key/value tensors of every row, feeds each step only the tokens the
 * cache has not seen, and gathers rows when beam search reorders them.
 */
export class DecoderRunner implements LogitsSource {
  private cache = new Map<string, ort.Tensor>();
  /** Tokens of every row already in the cache. */
  private pastLength = 0;

  constructor(
    private readonly sessions: DecoderSessions,
    private readonly io: DecoderIo,
    private encoderStates: ort.Tensor,
    private readonly cacheShape?: { heads: number; headDim: number },
  ) {}

  async next(sequences: readonly (readonly number[])[]): Promise<Float32Array> {
    const rows = sequences.length;
    const total = sequences[0]?.length ?? 0;
    if (rows !== this.encoderStates.dims[0])
      throw new Error(`${rows} sequences for ${this.encoderStates.dims[0]} rows of encoder states`);
    if (sequences.some((s) => s.length !== total)) throw new Error('the sequences differ in length');
    const cached = this.io.layout !== 'no-cache';
    const from = cached ? this.pastLength : 0;
    if (total <= from) throw new Error(`no new tokens: ${total} tokens, ${from} in the cache`);
    const session =
      this.io.layout === 'with-past' && this.pastLength > 0 ? this.sessions.withPast : this.sessions.first;
    if (!session) throw new DecoderLayoutError('the with-past layout needs its with-past decoder');

    const fresh = total - from;
    const ids = new BigInt64Array(rows * fresh);
    sequences.forEach((s, r) => {
      for (let t = 0; t < fresh; t++) ids[r * fresh + t] = BigInt(s[from + t] as number);
    });
    const available: Record<string, () => ort.Tensor> = {
      [DECODER_INPUTS.inputIds]: () => new ort.Tensor('int64', ids, [rows, fresh]),
      [DECODER_INPUTS.encoderHiddenStates]: () => this.encoderStates,
      [DECODER_INPUTS.attentionMask]: () => ones(rows, total),
      [DECODER_INPUTS.encoderAttentionMask]: () => ones(rows, this.encoderStates.dims[1] ?? 0),
      [DECODER_INPUTS.positionIds]: () =>
        new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: rows * fresh }, (_, i) => BigInt(from + (i % fresh))),
          [rows, fresh],
        ),
      [DECODER_INPUTS.useCacheBranch]: () => new ort.Tensor('bool', new Uint8Array([this.pastLength > 0 ? 1 : 0]), [1]),
    };
    const empty = this.pastLength === 0 && this.io.layout === 'merged' ? emptyPast(this.io, rows, this.cacheShape) : {};
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const make = available[name];
      const tensor = make ? make() : (this.cache.get(name) ?? empty[name]);
      if (!tensor) throw new DecoderLayoutError(`no value for the decoder input ${name}`);
      feeds[name] = tensor;
    }
    const outputs = await session.run(feeds);
    if (cached) {
      for (const p of this.io.past) {
        const present = outputs[p.output];
        if (present) this.cache.set(p.input, present);
      }
      this.pastLength = total;
    }
    const logits = outputs[this.io.logits];
    if (!logits) throw new DecoderLayoutError(`the decoder gave no ${this.io.logits}`);
    return lastPosition(logits);
  }

  reorder(rows: readonly number[]): void {
    this.encoderStates = gatherRows(this.encoderStates, rows);
    for (const [name, tensor] of this.cache) this.cache.set(name, gatherRows(tensor, rows));
  }
}
