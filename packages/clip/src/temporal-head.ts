import * as ort from 'onnxruntime-node';
import { createSession, type SessionOptions } from './session.js';
import { l2Normalize } from './vector.js';

/**
 * A learned temporal head in ONNX: frame features [clips, T, D] plus a
 * valid-frame mask [clips, T] (1 = a distinct frame, 0 = padding) → one
 * sequence feature per clip [clips, D] (L2-normalised here). Input and output
 * names are read from the session: the 3-d input is the features, the 2-d one
 * the mask.
 */
export class TemporalHead {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly names: { features: string; mask: string | undefined; output: string },
  ) {}

  static async load(path: string, options: SessionOptions): Promise<TemporalHead> {
    const { session } = await createSession(path, options);
    const inputs = session.inputMetadata.filter((m) => m.isTensor) as { name: string; shape: readonly unknown[] }[];
    const features = inputs.find((m) => m.shape.length === 3)?.name;
    if (!features) throw new Error(`${path}: a temporal head needs a [clips, frames, dim] input`);
    const mask = inputs.find((m) => m.shape.length === 2)?.name;
    const output = session.outputNames[0];
    if (!output) throw new Error(`${path}: the temporal head has no output`);
    return new TemporalHead(session, { features, mask, output });
  }

  /** clips[c] holds T frame vectors of size D; validFrames[c] of them are distinct, the rest padding. */
  async encode(clips: readonly (readonly Float32Array[])[], validFrames: readonly number[]): Promise<Float32Array[]> {
    const count = clips.length;
    const frames = clips[0]?.length ?? 0;
    const size = clips[0]?.[0]?.length ?? 0;
    if (count === 0) return [];
    const features = new Float32Array(count * frames * size);
    const mask = new Float32Array(count * frames);
    clips.forEach((clip, c) => {
      clip.forEach((frame, t) => {
        features.set(frame, (c * frames + t) * size);
        mask[c * frames + t] = t < (validFrames[c] ?? frames) ? 1 : 0;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      [this.names.features]: new ort.Tensor('float32', features, [count, frames, size]),
    };
    if (this.names.mask) feeds[this.names.mask] = new ort.Tensor('float32', mask, [count, frames]);
    const result = await this.session.run(feeds, [this.names.output]);
    const output = result[this.names.output];
    if (!output) throw new Error('the temporal head gave no output');
    const dim = output.dims.at(-1) ?? size;
    const data = output.data as Float32Array;
    return Array.from({ length: count }, (_, c) => l2Normalize(data.slice(c * dim, (c + 1) * dim)));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
