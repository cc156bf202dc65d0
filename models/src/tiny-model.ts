import { GraphBuilder } from './onnx-graph.js';
import { preprocessingEntry, UINT8_INPUT, uint8Prelude } from './preprocessing.js';
import { specialToken } from './tokenizer-json.js';

/**
 * The tiny test pair ("vad-test-tiny"): not CLIP, but built so that its
 * embeddings carry meaning tests can rely on. The image encoder averages
 * each colour channel (undoing the CLIP normalisation) and maps the mean
 * colour linearly onto 8 directions; the text encoder sums per-word vectors
 * on the same directions. So a bright red/orange scene is nearest to
 * "fire"/"explosion", the plain grey of the test videos to "normal", a green
 * one to "fighting", a blue one to "arrest".
 */
export const TINY_EMBEDDING_SIZE = 8;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

const D = TINY_EMBEDDING_SIZE;
// Directions: 0 warm (fire), 1 brightness, 2 green, 3 blue, 4 neutral/normal, 5 dark, 6 theft, 7 vandalism.
const WARM = [1, 0.2, -0.2, -0.8, 0, 0, 0, 0];
const NEUTRAL = [0, 0, 0, 0, 1, 0, 0, 0];
const GREEN = [0, 0, 1, 0, 0, 0, 0, 0];
const BLUE = [0, 0, 0, 1, 0, 0, 0, 0];
const DARK = [0, -0.3, 0, 0, 0, 1, 0, 0];
const THEFT = [0, 0, 0, 0, 0, 0, 1, 0];
const VANDAL = [0, 0, 0, 0, 0, 0, 0, 1];
const ROAD = [0, 0.5, 0, 0.3, 0, 0.5, 0, 0.5];

/** Word → direction. Words not listed (templates: "a photo of …") are in the vocabulary with a zero vector. */
const WORD_VECTORS: Record<string, number[]> = {
  normal: NEUTRAL,
  ordinary: NEUTRAL,
  everyday: NEUTRAL,
  quiet: NEUTRAL,
  nothing: NEUTRAL,
  empty: NEUTRAL,
  plain: NEUTRAL,
  grey: NEUTRAL,
  gray: NEUTRAL,
  activity: NEUTRAL.map((v) => v * 0.2),
  fire: WARM,
  flames: WARM,
  burning: WARM,
  arson: WARM,
  explosion: WARM,
  smoke: WARM.map((v) => v * 0.5),
  fighting: GREEN,
  fight: GREEN,
  assault: GREEN,
  abuse: GREEN,
  arrest: BLUE,
  police: BLUE,
  shooting: DARK,
  gun: DARK,
  robbery: THEFT,
  burglary: THEFT,
  stealing: THEFT,
  shoplifting: THEFT,
  theft: THEFT,
  vandalism: VANDAL,
  graffiti: VANDAL,
  roadaccidents: ROAD,
  road: ROAD,
  accident: ROAD,
  accidents: ROAD,
  crash: ROAD,
};
const FILLER =
  'a an the of in on at with and is are photo picture image video footage frame frames surveillance cctv camera showing scene people person someone street outside inside view'.split(
    ' ',
  );

export const TINY_SPECIAL = { start: '<|startoftext|>', end: '<|endoftext|>', unknown: '[UNK]' };

export function tinyVocabulary(): string[] {
  return [TINY_SPECIAL.start, TINY_SPECIAL.end, TINY_SPECIAL.unknown, ...Object.keys(WORD_VECTORS), ...FILLER];
}

/** A WordPiece tokenizer.json (whole words, lower-cased) that tokenizer libraries load like a real one. */
export function tinyTokenizerJson(): object {
  const vocab = Object.fromEntries(tinyVocabulary().map((token, id) => [token, id]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      specialToken(TINY_SPECIAL.start, 0),
      specialToken(TINY_SPECIAL.end, 1),
      specialToken(TINY_SPECIAL.unknown, 2),
    ],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: TINY_SPECIAL.start, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: TINY_SPECIAL.end, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: TINY_SPECIAL.start, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: TINY_SPECIAL.end, type_id: 0 } },
      ],
      special_tokens: {
        [TINY_SPECIAL.start]: { id: TINY_SPECIAL.start, ids: [0], tokens: [TINY_SPECIAL.start] },
        [TINY_SPECIAL.end]: { id: TINY_SPECIAL.end, ids: [1], tokens: [TINY_SPECIAL.end] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: TINY_SPECIAL.unknown,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

export function tinyTokenizerConfig(): object {
  return {
    bos_token: TINY_SPECIAL.start,
    eos_token: TINY_SPECIAL.end,
    pad_token: TINY_SPECIAL.end,
    unk_token: TINY_SPECIAL.unknown,
    model_max_length: 77,
    do_lower_case: true,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/** Which input a built image encoder takes. */
export interface ImageInputOptions {
  /**
   * `uint8` (the default, what vad builds): the frames' RGB bytes, pixels_uint8
   * [N,H,W,3], normalised by the graph itself (preprocessing folded in);
   * `float32`: a CLIP-style export's input, already normalised, NCHW, as
   * exports from PyTorch take it (for tests and benchmarks of the unfolded path).
   */
  input?: 'uint8' | 'float32';
}

/**
 * pixels_uint8 [N,H,W,3] RGB bytes → image_embeds [N,8]; with `input: 'float32'`,
 * pixel_values [N,3,H,W] (CLIP-normalised) instead. Any H and W.
 */
export function buildTinyImageModel(options: ImageInputOptions = {}): Uint8Array {
  const g = new GraphBuilder('vad-test-tiny-image');
  const folded = (options.input ?? 'uint8') === 'uint8';
  const pixels = folded
    ? uint8Prelude(g, { feeds: 'pixel_values', size: null, mean: CLIP_MEAN, std: CLIP_STD })
    : g.input('pixel_values', 'float', ['batch', 3, 'height', 'width']);
  const normalisedMean = g.op('ReduceMean', [pixels], { axes: { ints: [2, 3] }, keepdims: { int: 0 } });
  const rgb = g.op('Add', [g.op('Mul', [normalisedMean, g.float(CLIP_STD)]), g.float(CLIP_MEAN)]);
  // Columns: warm, brightness, green, blue, neutral, dark, theft, vandalism.
  const weights = new Float32Array([
    // r
    1,
    1 / 3,
    -0.5,
    -0.5,
    0,
    -1 / 3,
    0,
    0,
    // g
    -0.5,
    1 / 3,
    1,
    -0.5,
    0,
    -1 / 3,
    0,
    0,
    // b
    -0.5,
    1 / 3,
    -0.5,
    1,
    0,
    -1 / 3,
    0,
    0,
  ]);
  const bias = new Float32Array([0, -0.45, 0, 0, 0.35, 0.15, 0, 0]);
  const projected = g.op('MatMul', [rgb, g.weight('colour_projection', [3, D], weights)]);
  // Darkness only counts below mid-grey: relu(0.15 - brightness).
  const raw = g.op('Add', [projected, g.weight('colour_bias', [D], bias)]);
  const darkMask = g.float([0, 0, 0, 0, 0, 1, 0, 0]);
  const keepMask = g.float([1, 1, 1, 1, 1, 0, 1, 1]);
  const dark = g.op('Mul', [g.op('Relu', [raw]), darkMask]);
  g.op('Add', [g.op('Mul', [raw, keepMask]), dark], {}, 'image_embeds');
  g.output('image_embeds', 'float', ['batch', D]);
  if (!folded) return g.serialize();
  return g.serialize(
    17,
    preprocessingEntry({
      version: 1,
      input: UINT8_INPUT,
      dtype: 'uint8',
      layout: 'NHWC',
      size: null,
      mean: CLIP_MEAN as [number, number, number],
      std: CLIP_STD as [number, number, number],
      feeds: 'pixel_values',
    }),
  );
}

/** input_ids [N,L] int64 + attention_mask [N,L] int64 → text_embeds [N,8]: masked sum of word vectors. */
export function buildTinyTextModel(): Uint8Array {
  const g = new GraphBuilder('vad-test-tiny-text');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const vocabulary = tinyVocabulary();
  const table = new Float32Array(vocabulary.length * D);
  vocabulary.forEach((word, id) => {
    const vector = WORD_VECTORS[word];
    if (vector) table.set(vector, id * D);
  });
  const vectors = g.op('Gather', [g.weight('token_embedding', [vocabulary.length, D], table), ids], {
    axis: { int: 0 },
  });
  const maskFloat = g.op('Unsqueeze', [g.op('Cast', [mask], { to: { int: 1 } }), g.int64([2])]);
  g.op('ReduceSum', [g.op('Mul', [vectors, maskFloat]), g.int64([1])], { keepdims: { int: 0 } }, 'text_embeds');
  g.output('text_embeds', 'float', ['batch', D]);
  return g.serialize();
}
