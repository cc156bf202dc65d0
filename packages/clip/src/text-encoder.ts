import * as ort from 'onnxruntime-node';
import { type TextIo, textIo } from './io-adapter.js';
import type { ModelSpec } from './manifest.js';
import type { ModelPaths } from './model-files.js';
import { createSession, type SessionOptions } from './session.js';
import { ClipTokenizer } from './tokenizer.js';
import { normalizedRows } from './vector.js';

function intTensor(type: 'int32' | 'int64', rows: number[][], width: number): ort.Tensor {
  const flat = rows.flat();
  const data = type === 'int64' ? BigInt64Array.from(flat, (v) => BigInt(v)) : Int32Array.from(flat);
  return new ort.Tensor(type, data, [rows.length, width]);
}

/** Prompts → L2-normalised text embeddings, in batches. */
export class ClipTextEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly io: TextIo,
    readonly tokenizer: ClipTokenizer,
    readonly provider: 'cpu' | 'cuda',
  ) {}

  static async load(paths: ModelPaths, spec: ModelSpec, options: SessionOptions): Promise<ClipTextEncoder> {
    if (!paths.text || !paths.tokenizer) throw new Error('this model has no text encoder');
    const { session, provider } = await createSession(paths.text, options);
    const io = textIo(session, spec.tensors.text, spec.embeddingSize);
    const tokenizer = await ClipTokenizer.load(paths.tokenizer, paths.tokenizerConfig, spec.contextLength);
    return new ClipTextEncoder(session, io, tokenizer, provider);
  }

  async encode(texts: readonly string[], batchSize = 64): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = this.tokenizer.encode(texts.slice(start, start + batchSize));
      const width = this.tokenizer.contextLength;
      const feeds: Record<string, ort.Tensor> = { [this.io.ids]: intTensor(this.io.idsType, batch.ids, width) };
      if (this.io.mask) feeds[this.io.mask.name] = intTensor(this.io.mask.type, batch.mask, width);
      const result = await this.session.run(feeds, [this.io.output]);
      const tensor = result[this.io.output];
      if (!tensor) throw new Error(`the text encoder gave no ${this.io.output}`);
      const size = tensor.dims.at(-1) ?? this.io.embeddingSize;
      out.push(...normalizedRows(tensor.data as Float32Array, batch.ids.length, size));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
