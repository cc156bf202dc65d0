import * as ort from 'onnxruntime-node';

/**
 * How a decoder export is fed, discovered from its sessions' input and output
 * names (Hugging Face Optimum's conventions):
 * - `no-cache`: input_ids [N,T] + encoder_hidden_states → logits [N,T,V]; the whole sequence every step;
 * - `with-past`: decoder_model.onnx for the first step (it outputs present.{i}.key/value), then
 *   decoder_with_past_model.onnx with past_key_values.{i}.key/value and only the new token;
 * - `merged`: decoder_model_merged.onnx, past inputs plus use_cache_branch bool [1]; the first step
 *   gets empty past tensors [N,H,0,D] and use_cache_branch false.
 */
export type DecoderLayout = 'no-cache' | 'with-past' | 'merged';

/** An input's name and, when the session says, its element type and shape. */
export interface TensorInfo {
  name: string;
  type?: string | undefined;
  shape?: readonly (number | string)[] | undefined;
}

/** What a decoder session takes and gives. */
export interface SessionSignature {
  inputs: readonly TensorInfo[];
  outputs: readonly string[];
}

export interface PastEntry {
  /** The past input (past_key_values.0.key, past_key_values.0.encoder.value, …). */
  input: string;
  /** The output that fills it for the next step (present.0.key, …). */
  output: string;
  /** `decoder` entries grow by the new tokens each step; `encoder` ones (cross-attention) stay as computed first. */
  kind: 'decoder' | 'encoder';
  /** Element type: float32 (or float16 for half-precision exports). */
  type: 'float32' | 'float16';
  /** Heads and head size (dims 1 and 3), when the session states them. */
  heads?: number | undefined;
  headDim?: number | undefined;
}

export interface DecoderIo {
  layout: DecoderLayout;
  /** The output holding the logits [N,T,V]. */
  logits: string;
  /** Past inputs of the cached decoder (with-past or merged); empty for no-cache. */
  past: PastEntry[];
}

/** Inputs a decoder may have besides the past: all of them are fed when a session declares them. */
export const DECODER_INPUTS = {
  inputIds: 'input_ids',
  encoderHiddenStates: 'encoder_hidden_states',
  /** Ones [N, P+T] (every token is real: rows are never left-padded). */
  attentionMask: 'attention_mask',
  /** Ones [N, L]. */
  encoderAttentionMask: 'encoder_attention_mask',
  /** P, …, P+T−1 per row. */
  positionIds: 'position_ids',
  useCacheBranch: 'use_cache_branch',
} as const;

const KNOWN_INPUTS = new Set<string>(Object.values(DECODER_INPUTS));
const PAST = /^past_key_values\.(.+)$/;

export class DecoderLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecoderLayoutError';
  }
}

/** The signature of a loaded session (names, and types and shapes from its metadata). */
export function signatureOf(session: ort.InferenceSession): SessionSignature {
  const metadata = new Map(session.inputMetadata.map((m) => [m.name, m]));
  return {
    inputs: session.inputNames.map((name) => {
      const m = metadata.get(name);
      return m?.isTensor ? { name, type: m.type, shape: m.shape } : { name };
    }),
    outputs: [...session.outputNames],
  };
}

function pastEntries(signature: SessionSignature, which: string): PastEntry[] {
  const entries: PastEntry[] = [];
  for (const input of signature.inputs) {
    const match = PAST.exec(input.name);
    if (!match) continue;
    const type = input.type ?? 'float32';
    if (type !== 'float32' && type !== 'float16')
      throw new DecoderLayoutError(`${which}: past input ${input.name} is ${type}; float32 or float16 expected`);
    const dim = (i: number) => (typeof input.shape?.[i] === 'number' ? (input.shape[i] as number) : undefined);
    entries.push({
      input: input.name,
      output: `present.${match[1]}`,
      kind: /(^|\.)encoder\./.test(match[1] ?? '') ? 'encoder' : 'decoder',
      type,
      heads: dim(1),
      headDim: dim(3),
    });
  }
  return entries;
}

function checkInputs(signature: SessionSignature, which: string): void {
  const names = signature.inputs.map((i) => i.name);
  if (!names.includes(DECODER_INPUTS.inputIds))
    throw new DecoderLayoutError(`${which} has no input_ids input (inputs: ${names.join(', ')})`);
  const unknown = names.filter((n) => !KNOWN_INPUTS.has(n) && !PAST.test(n));
  if (unknown.length) {
    throw new DecoderLayoutError(
      `${which} has inputs this runtime cannot feed: ${unknown.join(', ')} (it feeds ${[...KNOWN_INPUTS].join(', ')} and past_key_values.*)`,
    );
  }
}

function logitsOf(signature: SessionSignature, which: string): string {
  const logits = signature.outputs.includes('logits') ? 'logits' : signature.outputs[0];
  if (!logits) throw new DecoderLayoutError(`${which} has no outputs`);
  return logits;
}

/**
 * The layout of a decoder export, from the signature of its first (or only)
 * decoder and, when there is one, of its with-past decoder. Throws
 * DecoderLayoutError for a combination it cannot run.
 */
export function describeDecoder(first: SessionSignature, withPast?: SessionSignature): DecoderIo {
  checkInputs(first, 'the decoder');
  const firstPast = pastEntries(first, 'the decoder');
  const names = new Set(first.inputs.map((i) => i.name));
  if (firstPast.length) {
    if (withPast)
      throw new DecoderLayoutError('the first-step decoder already takes past_key_values: list it alone (merged)');
    if (!names.has(DECODER_INPUTS.useCacheBranch)) {
      throw new DecoderLayoutError(
        'the decoder takes past_key_values but no use_cache_branch: it is a with-past decoder; list it as decoderWithPast beside the first-step decoder_model.onnx',
      );
    }
    const missing = firstPast.filter((p) => !first.outputs.includes(p.output)).map((p) => p.output);
    if (missing.length) throw new DecoderLayoutError(`the merged decoder does not output ${missing.join(', ')}`);
    return { layout: 'merged', logits: logitsOf(first, 'the merged decoder'), past: firstPast };
  }
  if (!withPast) return { layout: 'no-cache', logits: logitsOf(first, 'the decoder'), past: [] };

  checkInputs(withPast, 'the with-past decoder');
  const past = pastEntries(withPast, 'the with-past decoder');
  if (!past.length) throw new DecoderLayoutError('the with-past decoder takes no past_key_values inputs');
  const unfilled = past.filter((p) => !first.outputs.includes(p.output)).map((p) => p.output);
  if (unfilled.length)
    throw new DecoderLayoutError(`the first-step decoder does not output ${unfilled.join(', ')} for the with-past one`);
  const grows = past.filter((p) => p.kind === 'decoder' && !withPast.outputs.includes(p.output));
  if (grows.length)
    throw new DecoderLayoutError(`the with-past decoder does not output ${grows.map((p) => p.output).join(', ')}`);
  logitsOf(withPast, 'the with-past decoder');
  return { layout: 'with-past', logits: logitsOf(first, 'the decoder'), past };
}

/**
 * Empty past tensors [N,H,0,D] for a merged decoder's first step (H and D
 * from the session, else from `cache`).
 */
export function emptyPast(
  io: DecoderIo,
  batch: number,
  cache?: { heads: number; headDim: number },
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const p of io.past) {
    const heads = p.heads ?? cache?.heads;
    const headDim = p.headDim ?? cache?.headDim;
    if (heads === undefined || headDim === undefined) {
      throw new DecoderLayoutError(
        `${p.input} does not state its heads and head size: give the captioner spec a cache: { heads, headDim }`,
      );
    }
    const dims = [batch, heads, 0, headDim];
    feeds[p.input] =
      p.type === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(0), dims)
        : new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return feeds;
}
