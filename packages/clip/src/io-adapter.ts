import type * as ort from 'onnxruntime-node';

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
}

export interface TextIo {
  ids: string;
  idsType: 'int32' | 'int64';
  /** Present when the export takes an attention mask (e.g. the project's tiny model). */
  mask?: { name: string; type: 'int32' | 'int64' } | undefined;
  output: string;
  embeddingSize: number;
}

const IMAGE_INPUTS = ['pixel_values', 'image', 'input', 'images'];
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
  const meta = tensorMetadata(session.inputMetadata).find((m) => m.name === input);
  if (meta && meta.shape.length !== 4)
    throw new Error(`image input ${input} has ${meta.shape.length} dimensions, expected NCHW`);
  const output = pick(session.outputNames, names?.output, IMAGE_OUTPUTS, 'image output');
  return { input, output, embeddingSize: embeddingSizeOf(session, output, embeddingSize) };
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
