import type { GraphBuilder } from './onnx-graph.js';

/**
 * Preprocessing folded into an image encoder's graph: the model takes the
 * frames' raw RGB bytes, uint8 NHWC [N, S, S, 3], exactly as segments store
 * them, and its first nodes do what vad's JavaScript path (rgbToNchw) does:
 *
 *   Cast(float) → Transpose(0,3,1,2) → Sub(mean·255) → Div(std·255)
 *
 * which equals (x/255 − mean)/std, channels first. The models vad builds
 * take this input directly; `foldPreprocessing` (@vad/clip) prepends it to a
 * float32 NCHW export. Either way the model says so in its metadata_props.
 */

/** The metadata_props key that marks a model whose preprocessing is in its graph (value: PreprocessingMetadata as JSON). */
export const PREPROCESSING_KEY = 'vad.preprocessing';

/** Name of the uint8 NHWC input of a model with folded preprocessing. */
export const UINT8_INPUT = 'pixels_uint8';

export interface PreprocessingMetadata {
  /** Version of this record. */
  version: 1;
  /** The model's input: raw RGB bytes, frames × height × width × 3. */
  input: string;
  dtype: 'uint8';
  layout: 'NHWC';
  /** Side of the square frames the model takes; null when it takes any size (vad's tiny test model). */
  size: number | null;
  mean: [number, number, number];
  std: [number, number, number];
  /** The float32 NCHW tensor the prelude produces: the original export's input. */
  feeds: string;
  /** For a fold of a file: what it was folded from, so that a replaced original is noticed. */
  source?: { bytes: number; sampleSha256: string } | undefined;
}

/** The metadata_props entry of a model whose graph normalises uint8 NHWC frames itself. */
export function preprocessingEntry(metadata: PreprocessingMetadata): Record<string, string> {
  return { [PREPROCESSING_KEY]: JSON.stringify(metadata) };
}

/**
 * Reads a `vad.preprocessing` value; undefined when it is absent, an Error
 * when it is there but not a record vad wrote.
 */
export function parsePreprocessing(value: string | undefined): PreprocessingMetadata | Error | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return new Error(`${PREPROCESSING_KEY} is not JSON`);
  }
  const m = parsed as Partial<PreprocessingMetadata>;
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number');
  if (
    !m ||
    typeof m !== 'object' ||
    m.version !== 1 ||
    typeof m.input !== 'string' ||
    m.dtype !== 'uint8' ||
    m.layout !== 'NHWC' ||
    !(m.size === null || (typeof m.size === 'number' && m.size > 0)) ||
    !triple(m.mean) ||
    !triple(m.std) ||
    typeof m.feeds !== 'string'
  ) {
    return new Error(`${PREPROCESSING_KEY} is not a version 1 record of vad's (${value.slice(0, 200)})`);
  }
  return m as PreprocessingMetadata;
}

/**
 * Adds the uint8 NHWC input and the normalisation prelude to a graph being
 * built; returns the name of the float32 NCHW tensor it produces (`feeds`),
 * which the rest of the graph reads as it would read a float input.
 */
export function uint8Prelude(
  g: GraphBuilder,
  options: {
    feeds: string;
    /** Fixed side, or a name for a symbolic one (then height and width are each symbolic). */
    size: number | null;
    mean: readonly number[];
    std: readonly number[];
  },
): string {
  const side = (name: string) => options.size ?? name;
  const input = g.input(UINT8_INPUT, 'uint8', ['batch', side('height'), side('width'), 3]);
  const float = g.op('Cast', [input], { to: { int: 1 } });
  const nchw = g.op('Transpose', [float], { perm: { ints: [0, 3, 1, 2] } });
  const centred = g.op('Sub', [
    nchw,
    g.float(
      options.mean.map((v) => v * 255),
      [1, 3, 1, 1],
    ),
  ]);
  return g.op(
    'Div',
    [
      centred,
      g.float(
        options.std.map((v) => v * 255),
        [1, 3, 1, 1],
      ),
    ],
    {},
    options.feeds,
  );
}
