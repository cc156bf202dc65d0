import onnxProto from 'onnx-proto';
import { GraphBuilder } from './onnx-graph.js';
import { specialToken } from './tokenizer-json.js';

/**
 * vad's tiny synthetic test captioner ("vad-test-captioner"): not a trained
 * captioning model, but a pair of small ONNX graphs laid out like a Hugging
 * Face Optimum export of an image-captioning encoder-decoder, built so that
 * its captions are known in advance. The encoder pools the image into four
 * quadrant tokens carrying the mean colour; the decoder compares that colour
 * with a few colour prototypes (a sharp softmax) and, at each position,
 * emits the next word of the prototype's sentence, then the end token.
 * So a red/orange frame reads "fire and smoke near the wall", the plain
 * mid-grey of the test videos "an empty grey room", and so on (TINY_CAPTIONS).
 */

/** The known sentence of each colour prototype; `rgb` is the prototype colour (0–255). */
export const TINY_CAPTIONS = {
  fire: { rgb: [230, 90, 20], text: 'fire and smoke near the wall' },
  grey: { rgb: [128, 128, 128], text: 'an empty grey room' },
  green: { rgb: [50, 180, 60], text: 'two people fighting' },
  blue: { rgb: [30, 60, 205], text: 'police car with blue lights' },
  dark: { rgb: [15, 15, 20], text: 'a dark street at night' },
} as const satisfies Record<string, { rgb: readonly [number, number, number]; text: string }>;

export type TinyCaptionClass = keyof typeof TINY_CAPTIONS;

/** Special tokens: distinct start, end and pad tokens (so a runtime that confuses them is caught). */
export const TINY_CAPTIONER_SPECIAL = {
  start: '<|startoftext|>',
  end: '<|endoftext|>',
  pad: '<|pad|>',
  unknown: '<|unk|>',
} as const;

/** Token ids of the special tokens, and the generation settings of the manifest entry. */
export const TINY_CAPTIONER_GENERATION = { decoderStartTokenId: 0, eosTokenId: 1, padTokenId: 2, maxNewTokens: 16 };

/** The image size the encoder takes (pixel_values [N,3,224,224]); ViT's mean and std (0.5). */
export const TINY_CAPTIONER_INPUT_SIZE = 224;
export const TINY_CAPTIONER_MEAN = [0.5, 0.5, 0.5] as const;
export const TINY_CAPTIONER_STD = [0.5, 0.5, 0.5] as const;

/** Encoder output: 4 quadrant tokens of width 8 ([r, g, b, luma, r−g, b−g, 1, 0]). */
const TOKENS = 4;
const HIDDEN = 8;
/** Positions the decoder's sentence table covers; later ones all predict the end token. */
const POSITIONS = 16;
/** Softmax sharpness over squared colour distances (0–1 RGB). */
const SHARPNESS = 200;
/** The logit of the chosen word (the others are 0). */
const WORD_LOGIT = 20;
/** The cached decoders' past: 2 layers, 2 heads of 4. */
export const TINY_CAPTIONER_CACHE = { layers: 2, heads: 2, headDim: 4 };

const CLASSES = Object.keys(TINY_CAPTIONS) as TinyCaptionClass[];
const FILLER = 'a an the of in on at with is are people person car street room'.split(' ');

export function tinyCaptionerVocabulary(): string[] {
  const words = new Set<string>();
  for (const c of CLASSES) for (const w of TINY_CAPTIONS[c].text.split(' ')) words.add(w);
  for (const w of FILLER) words.add(w);
  const s = TINY_CAPTIONER_SPECIAL;
  return [s.start, s.end, s.pad, s.unknown, ...words];
}

/** A word-level tokenizer.json (lower-cased, split on whitespace) with four special tokens. */
export function tinyCaptionerTokenizerJson(): object {
  const vocabulary = tinyCaptionerVocabulary();
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.values(TINY_CAPTIONER_SPECIAL).map((token) => specialToken(token, vocabulary.indexOf(token))),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(vocabulary.map((token, id) => [token, id])),
      unk_token: TINY_CAPTIONER_SPECIAL.unknown,
    },
  };
}

export function tinyCaptionerTokenizerConfig(): object {
  return {
    bos_token: TINY_CAPTIONER_SPECIAL.start,
    eos_token: TINY_CAPTIONER_SPECIAL.end,
    pad_token: TINY_CAPTIONER_SPECIAL.pad,
    unk_token: TINY_CAPTIONER_SPECIAL.unknown,
    model_max_length: 64,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

const METADATA = { description: "vad's tiny synthetic test captioner (not a trained model)" };

/**
 * pixel_values [N,3,224,224] (normalised with mean 0.5, std 0.5) →
 * last_hidden_state [N,4,8]: per image quadrant, [r, g, b, luma, r−g, b−g, 1, 0]
 * of its mean colour (0–1).
 */
export function buildTinyCaptionEncoder(): Uint8Array {
  const g = new GraphBuilder('vad-test-captioner-encoder');
  const size = TINY_CAPTIONER_INPUT_SIZE;
  const pixels = g.input('pixel_values', 'float', ['batch_size', 3, size, size]);
  const pooled = g.op('AveragePool', [pixels], {
    kernel_shape: { ints: [size / 2, size / 2] },
    strides: { ints: [size / 2, size / 2] },
  });
  const rgb = g.op('Add', [
    g.op('Mul', [pooled, g.float([...TINY_CAPTIONER_STD], [1, 3, 1, 1])]),
    g.float([...TINY_CAPTIONER_MEAN], [1, 3, 1, 1]),
  ]);
  const tokens = g.op('Transpose', [g.op('Reshape', [rgb, g.int64([0, 3, TOKENS])])], { perm: { ints: [0, 2, 1] } });
  // Columns: r, g, b, luma, r−g, b−g, 1, 0 (the constant ones come from the bias).
  const projection = new Float32Array([
    ...[1, 0, 0, 0.299, 1, 0, 0, 0],
    ...[0, 1, 0, 0.587, -1, -1, 0, 0],
    ...[0, 0, 1, 0.114, 0, 1, 0, 0],
  ]);
  const hidden = g.op('MatMul', [tokens, g.weight('patch_projection', [3, HIDDEN], projection)]);
  g.op(
    'Add',
    [hidden, g.weight('patch_bias', [HIDDEN], new Float32Array([0, 0, 0, 0, 0, 0, 1, 0]))],
    {},
    'last_hidden_state',
  );
  g.output('last_hidden_state', 'float', ['batch_size', TOKENS, HIDDEN]);
  return g.serialize(17, METADATA);
}

/** Which decoder file to build, in Hugging Face Optimum's layouts. */
export type TinyDecoderKind = 'no-cache' | 'first-step' | 'with-past' | 'merged';

/**
 * The decoder, in one of Optimum's layouts:
 * - `no-cache`: input_ids [N,T] + encoder_hidden_states → logits [N,T,V] (the whole sequence each step);
 * - `first-step`: the same, plus present.{i}.key/value [N,2,T,4] (decoder_model.onnx of a with-past pair);
 * - `with-past`: also past_key_values.{i}.key/value [N,2,P,4]; positions continue at P
 *   (decoder_with_past_model.onnx);
 * - `merged`: with-past inputs plus use_cache_branch bool [1]; when false the past is ignored
 *   (decoder_model_merged.onnx).
 * The logits at position t are the t-th word of the sentence of the nearest colour prototype
 * (the end token past its end), so the cache must be kept right for the sentence to come out right.
 */
export function buildTinyCaptionDecoder(kind: TinyDecoderKind = 'no-cache'): Uint8Array {
  const g = new GraphBuilder(`vad-test-captioner-decoder-${kind}`);
  const vocabulary = tinyCaptionerVocabulary();
  const V = vocabulary.length;
  const { layers, heads, headDim } = TINY_CAPTIONER_CACHE;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const encoder = g.input('encoder_hidden_states', 'float', ['batch_size', 'encoder_sequence_length', HIDDEN]);
  const hasPast = kind === 'with-past' || kind === 'merged';
  const hasPresent = kind !== 'no-cache';
  const past: { key: string; value: string }[] = [];
  if (hasPast) {
    for (let i = 0; i < layers; i++) {
      const dims = ['batch_size', heads, 'past_sequence_length', headDim];
      past.push({
        key: g.input(`past_key_values.${i}.key`, 'float', dims),
        value: g.input(`past_key_values.${i}.value`, 'float', dims),
      });
    }
  }
  // Retyped to bool after serialisation (GraphBuilder has no bool inputs).
  const useCache = kind === 'merged' ? g.input('use_cache_branch', 'uint8', [1]) : undefined;

  // The past length P (0 without a past, or when a merged decoder is told not to use its cache).
  let offset1: string; // [1]
  if (past[0]) {
    const pastLength = g.op('Slice', [g.op('Shape', [past[0].key]), g.int64([2]), g.int64([3])]);
    offset1 = useCache ? g.op('Mul', [pastLength, g.op('Cast', [useCache], { to: { int: 7 } })]) : pastLength;
  } else {
    offset1 = g.int64([0]);
  }
  const offset = g.op('Squeeze', [offset1, g.int64([0])]);
  const length = g.op('Gather', [g.op('Shape', [ids]), g.int64([1], [])], { axis: { int: 0 } });
  const positions = g.op('Range', [offset, g.op('Add', [offset, length]), g.int64([1], [])]);
  const clamped = g.op('Min', [positions, g.int64([POSITIONS - 1], [])]);

  // Nearest colour prototype, as a sharp softmax over squared distances: p [N,K].
  const meanToken = g.op('ReduceMean', [encoder], { axes: { ints: [1] }, keepdims: { int: 0 } });
  const select = new Float32Array(HIDDEN * 3);
  for (let c = 0; c < 3; c++) select[c * 3 + c] = 1;
  const rgb = g.op('MatMul', [meanToken, g.weight('colour_select', [HIDDEN, 3], select)]);
  const prototypes = new Float32Array(CLASSES.flatMap((c) => TINY_CAPTIONS[c].rgb.map((v) => v / 255)));
  const difference = g.op('Sub', [
    g.op('Unsqueeze', [rgb, g.int64([1])]),
    g.weight('colour_prototypes', [CLASSES.length, 3], prototypes),
  ]);
  const distance = g.op('ReduceSum', [g.op('Mul', [difference, difference]), g.int64([2])], {
    keepdims: { int: 0 },
  });
  const weights = g.op('Softmax', [g.op('Mul', [distance, g.float([-SHARPNESS], [])])], { axis: { int: -1 } });

  // Sentence table [K, POSITIONS, V]: the logit of the word at each position.
  const table = new Float32Array(CLASSES.length * POSITIONS * V);
  CLASSES.forEach((c, k) => {
    const words = TINY_CAPTIONS[c].text.split(' ');
    for (let t = 0; t < POSITIONS; t++) {
      const word = words[t];
      const id = word === undefined ? TINY_CAPTIONER_GENERATION.eosTokenId : vocabulary.indexOf(word);
      table[(k * POSITIONS + t) * V + id] = WORD_LOGIT;
    }
  });
  const rows = g.op('Gather', [g.weight('sentence_table', [CLASSES.length, POSITIONS, V], table), clamped], {
    axis: { int: 1 },
  });
  const flat = g.op('Reshape', [rows, g.int64([CLASSES.length, -1])]);
  g.op('Reshape', [g.op('MatMul', [weights, flat]), g.int64([0, -1, V])], {}, 'logits');
  g.output('logits', 'float', ['batch_size', 'decoder_sequence_length', V]);

  if (hasPresent) {
    // Key and value of each token: fixed per-token vectors, appended to the past.
    const embedding = new Float32Array(V * heads * headDim);
    for (let i = 0; i < embedding.length; i++) embedding[i] = ((i * 7919) % 23) / 23 - 0.5;
    const table = g.weight('token_cache_embedding', [V, heads * headDim], embedding);
    const perToken = g.op(
      'Transpose',
      [g.op('Reshape', [g.op('Gather', [table, ids]), g.int64([0, 0, heads, headDim])])],
      {
        perm: { ints: [0, 2, 1, 3] },
      },
    );
    for (let i = 0; i < layers; i++) {
      for (const part of ['key', 'value'] as const) {
        const fresh = g.op('Mul', [perToken, g.float([i + (part === 'key' ? 1 : -1)], [])]);
        const name = `present.${i}.${part}`;
        const previous = past[i]?.[part];
        if (previous) {
          // A merged decoder told not to use its cache keeps none of the past: its first P' = 0 entries.
          const kept = g.op('Slice', [previous, g.int64([0]), offset1, g.int64([2])]);
          g.op('Concat', [kept, fresh], { axis: { int: 2 } }, name);
        } else {
          g.op('Identity', [fresh], {}, name);
        }
        g.output(name, 'float', ['batch_size', heads, 'total_sequence_length', headDim]);
      }
    }
  }
  const bytes = g.serialize(17, METADATA);
  return useCache ? retypeInput(bytes, 'use_cache_branch', onnxProto.onnx.TensorProto.DataType.BOOL) : bytes;
}

/** Changes the element type of a graph input in serialised model bytes. */
function retypeInput(bytes: Uint8Array, name: string, elemType: number): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(bytes);
  const input = model.graph?.input?.find((i) => i.name === name);
  if (!input?.type?.tensorType) throw new Error(`no input ${name}`);
  input.type.tensorType.elemType = elemType;
  return onnx.ModelProto.encode(model).finish();
}

/** Where each decoder layout lies in a built vad-test-captioner folder (the manifest entry uses `no-cache`). */
export const TINY_CAPTIONER_LAYOUTS = {
  'no-cache': { decoder: 'onnx/decoder_model.onnx' },
  'with-past': {
    decoder: 'onnx/with-past/decoder_model.onnx',
    decoderWithPast: 'onnx/with-past/decoder_with_past_model.onnx',
  },
  merged: { decoderMerged: 'onnx/decoder_model_merged.onnx' },
} as const;

/** Every file of vad-test-captioner, by path in its folder: the encoder, the decoders of all three layouts, the tokenizer. */
export function tinyCaptionerFiles(): Record<string, Uint8Array | string> {
  const layouts = TINY_CAPTIONER_LAYOUTS;
  return {
    'onnx/encoder_model.onnx': buildTinyCaptionEncoder(),
    [layouts['no-cache'].decoder]: buildTinyCaptionDecoder('no-cache'),
    [layouts['with-past'].decoder]: buildTinyCaptionDecoder('first-step'),
    [layouts['with-past'].decoderWithPast]: buildTinyCaptionDecoder('with-past'),
    [layouts.merged.decoderMerged]: buildTinyCaptionDecoder('merged'),
    'tokenizer.json': JSON.stringify(tinyCaptionerTokenizerJson(), null, 2),
    'tokenizer_config.json': JSON.stringify(tinyCaptionerTokenizerConfig(), null, 2),
  };
}
