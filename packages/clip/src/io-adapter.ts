import * as ort from 'onnxruntime-node';
import { rgbToNchw } from './preprocess.js';

/**
 * Which tensors of a loaded session carry the image or the text, and their
 * shapes. Exports differ (Xenova: pixel_values → image_embeds, input_ids →
 * text_embeds; Immich: image/text → embedding, int32 text): the adapter
 * reads names, dtypes and shapes from the session itself, preferring the
 * manifest's names when the session has them.
 */
export interface ImageIo {
  input: string;
  output: string;
  embeddingSize: number;
  /**
   * What the image input takes: `uint8-nhwc`, the frames' RGB bytes as they
   * are (a model with vad's preprocessing folded into its graph), or
   * `float32-nchw`, pixels normalised with the model's mean/std, channels
   * first (an export as it comes; vad normalises in JavaScript).
   */
  format: PixelFormat;
}

export type PixelFormat = 'uint8-nhwc' | 'float32-nchw';

export interface TextIo {
  ids: string;
  idsType: 'int32' | 'int64';
  /** Present when the export takes an attention mask (e.g. the project's tiny model). */
  mask?: { name: string; type: 'int32' | 'int64' } | undefined;
  output: string;
  embeddingSize: number;
}

const IMAGE_INPUTS = ['pixels_uint8', 'pixel_values', 'image', 'input', 'images'];
const IMAGE_OUTPUTS = ['image_embeds', 'embedding', 'image_embedding', 'embeddings'];
const TEXT_INPUTS = ['input_ids', 'text', 'input'];
const TEXT_OUTPUTS = ['text_embeds', 'embedding', 'text_embedding', 'embeddings'];

type Metadata = ort.InferenceSession.ValueMetadata;

function tensorMetadata(list: readonly Metadata[]) {
  return list.filter(
    (m): m is Metadata & { isTensor: true; type: ort.Tensor.Type; shape: readonly (number | string)[] } => m.isTensor,
  );
}

function pick(names: readonly string[], preferred: string | undefined, candidates: string[], what: string): string {
  const chosen = [preferred, ...candidates].find((n) => n !== undefined && names.includes(n)) ?? names[0];
  if (!chosen) throw new Error(`the model has no ${what}`);
  return chosen;
}

function embeddingSizeOf(session: ort.InferenceSession, output: string, fallback: number): number {
  const meta = tensorMetadata(session.outputMetadata).find((m) => m.name === output);
  const last = meta?.shape.at(-1);
  return typeof last === 'number' && last > 0 ? last : fallback;
}

export function imageIo(
  session: ort.InferenceSession,
  names?: { input: string; output: string },
  embeddingSize = 0,
): ImageIo {
  const input = pick(session.inputNames, names?.input, IMAGE_INPUTS, 'image input');
  const format = pixelFormat(session, input);
  const output = pick(session.outputNames, names?.output, IMAGE_OUTPUTS, 'image output');
  return { input, output, embeddingSize: embeddingSizeOf(session, output, embeddingSize), format };
}

/**
 * What an image input takes, from the session's metadata: uint8 [N,H,W,3]
 * (RGB bytes, the model normalises them) or float32 [N,3,H,W] (normalised
 * pixels). Anything else is refused.
 */
export function pixelFormat(session: ort.InferenceSession, input: string): PixelFormat {
  const meta = tensorMetadata(session.inputMetadata).find((m) => m.name === input);
  if (!meta) return 'float32-nchw';
  const shape = `[${meta.shape.join(', ')}]`;
  if (meta.type === 'uint8') {
    const channels = meta.shape[3];
    if (meta.shape.length !== 4 || (typeof channels === 'number' && channels !== 3))
      throw new Error(`image input ${input} is uint8 ${shape}, expected RGB bytes NHWC [batch, height, width, 3]`);
    return 'uint8-nhwc';
  }
  if (meta.shape.length !== 4)
    throw new Error(`image input ${input} has ${meta.shape.length} dimensions, expected NCHW`);
  if (meta.type !== 'float32')
    throw new Error(`image input ${input} is ${meta.type}; vad feeds float32 NCHW pixels or uint8 NHWC RGB bytes`);
  return 'float32-nchw';
}

/**
 * The image input tensor for `frames` RGB frames (HWC bytes, one after
 * another): for a uint8 model the bytes themselves, a view without a copy;
 * for a float32 model the pixels normalised with mean/std, channels first.
 */
export function imageTensor(
  format: PixelFormat,
  rgb: Uint8Array,
  frames: number,
  size: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): ort.Tensor {
  if (format === 'float32-nchw') {
    return new ort.Tensor('float32', rgbToNchw(rgb, frames, size, mean, std), [frames, 3, size, size]);
  }
  if (rgb.length !== frames * size * size * 3) {
    throw new Error(
      `expected ${frames} frames of ${size}x${size} RGB (${frames * size * size * 3} bytes), got ${rgb.length}`,
    );
  }
  const bytes = rgb.constructor === Uint8Array ? rgb : new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length);
  return new ort.Tensor('uint8', bytes, [frames, size, size, 3]);
}

export function textIo(
  session: ort.InferenceSession,
  names?: { input: string; output: string },
  embeddingSize = 0,
): TextIo {
  const inputs = tensorMetadata(session.inputMetadata);
  const ids = pick(session.inputNames, names?.input, TEXT_INPUTS, 'text input');
  const intType = (name: string): 'int32' | 'int64' =>
    inputs.find((m) => m.name === name)?.type === 'int32' ? 'int32' : 'int64';
  const maskName = session.inputNames.find((n) => n === 'attention_mask');
  const output = pick(session.outputNames, names?.output, TEXT_OUTPUTS, 'text output');
  return {
    ids,
    idsType: intType(ids),
    mask: maskName ? { name: maskName, type: intType(maskName) } : undefined,
    output,
    embeddingSize: embeddingSizeOf(session, output, embeddingSize),
  };
}
