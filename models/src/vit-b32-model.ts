import { GraphBuilder, SeededRandom } from './onnx-graph.js';
import { preprocessingEntry, UINT8_INPUT, uint8Prelude } from './preprocessing.js';
import { CLIP_MEAN, CLIP_STD, type ImageInputOptions } from './tiny-model.js';

export interface VitConfig {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  outputSize: number;
}

/** CLIP ViT-B/32's image tower: 224 px, patch 32, width 768, 12 layers, 12 heads, 512-d output. */
export const VIT_B32: VitConfig = { imageSize: 224, patchSize: 32, width: 768, layers: 12, heads: 12, outputSize: 512 };

/** The weight and layer helpers of a ViT graph: seeded random weights drawn in call order. */
export interface VitBlocks {
  g: GraphBuilder;
  /** A random-normal weight (std 0.02 unless given). */
  w: (name: string, dims: number[], std?: number) => string;
  layerNorm: (x: string, name: string) => string;
  linear: (x: string, name: string, inputs: number, outputs: number) => string;
}

export function vitBlocks(g: GraphBuilder, random: SeededRandom, width: number): VitBlocks {
  const w = (name: string, dims: number[], std = 0.02) =>
    g.weight(
      name,
      dims,
      random.normal(
        dims.reduce((a, b) => a * b, 1),
        std,
      ),
    );
  const ones = (name: string, n: number) => g.weight(name, [n], new Float32Array(n).fill(1));
  const zeros = (name: string, n: number) => g.weight(name, [n], new Float32Array(n));
  const layerNorm = (x: string, name: string) =>
    g.op('LayerNormalization', [x, ones(`${name}.weight`, width), zeros(`${name}.bias`, width)], {
      axis: { int: -1 },
      epsilon: { float: 1e-5 },
    });
  const linear = (x: string, name: string, inputs: number, outputs: number) =>
    g.op('Add', [g.op('MatMul', [x, w(`${name}.weight`, [inputs, outputs])]), zeros(`${name}.bias`, outputs)]);
  return { g, w, layerNorm, linear };
}

/**
 * CLIP ViT's trunk on a normalised NCHW `image` [N,3,S,S]: patch convolution,
 * class token, positional embedding, pre-LayerNorm and the residual attention
 * blocks. Returns the hidden states [N, (S/patch)²+1, width], before any final LayerNorm.
 */
export function vitTrunk(blocks: VitBlocks, config: VitConfig, image: string): string {
  const { g, w, layerNorm, linear } = blocks;
  const { imageSize, patchSize, width, layers, heads } = config;
  const grid = imageSize / patchSize;
  const tokens = grid * grid + 1;
  const headSize = width / heads;
  const patches = g.op('Conv', [image, w('conv1.weight', [width, 3, patchSize, patchSize])], {
    kernel_shape: { ints: [patchSize, patchSize] },
    strides: { ints: [patchSize, patchSize] },
  });
  const sequence = g.op('Transpose', [g.op('Reshape', [patches, g.int64([0, width, -1])])], {
    perm: { ints: [0, 2, 1] },
  });
  const batch = g.op('Slice', [g.op('Shape', [image]), g.int64([0]), g.int64([1])]);
  const classShape = g.op('Concat', [batch, g.int64([1, width])], { axis: { int: 0 } });
  const classToken = g.op('Expand', [w('class_embedding', [1, 1, width]), classShape]);
  let x = g.op('Concat', [classToken, sequence], { axis: { int: 1 } });
  x = g.op('Add', [x, w('positional_embedding', [tokens, width], 0.01)]);
  x = layerNorm(x, 'ln_pre');

  const scale = g.float([1 / Math.sqrt(headSize)], []);
  const headShape = g.int64([0, 0, heads, headSize]);
  const mergedShape = g.int64([0, 0, width]);
  const splitSizes = g.int64([width, width, width]);
  const quickGeluFactor = g.float([1.702], []);
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}`;
    const h = layerNorm(x, `${p}.ln_1`);
    const qkv = linear(h, `${p}.attn.in_proj`, width, 3 * width);
    const [q, k, v] = g.opMulti('Split', [qkv, splitSizes], 3, { axis: { int: 2 } }) as [string, string, string];
    const heads4 = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm: { ints: perm } });
    const scores = g.op('Mul', [g.op('MatMul', [heads4(q, [0, 2, 1, 3]), heads4(k, [0, 2, 3, 1])]), scale]);
    const attention = g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), heads4(v, [0, 2, 1, 3])]);
    const merged = g.op('Reshape', [g.op('Transpose', [attention], { perm: { ints: [0, 2, 1, 3] } }), mergedShape]);
    x = g.op('Add', [x, linear(merged, `${p}.attn.out_proj`, width, width)]);
    const m = linear(layerNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`, width, 4 * width);
    const gelu = g.op('Mul', [m, g.op('Sigmoid', [g.op('Mul', [m, quickGeluFactor])])]);
    x = g.op('Add', [x, linear(gelu, `${p}.mlp.c_proj`, 4 * width, width)]);
  }
  return x;
}

/**
 * An image encoder with CLIP ViT-B/32's architecture (patch convolution,
 * class token, positional embedding, pre-LayerNorm, 12 residual attention
 * blocks with QuickGELU MLPs, post-LayerNorm, projection) and seeded random
 * weights: the same compute as the real model, for benchmarks. Its outputs
 * mean nothing. Tensor names follow Immich's export: image → embedding.
 * It takes the frames' RGB bytes, pixels_uint8 [N,S,S,3], and normalises them
 * with CLIP's mean and std in its graph (preprocessing folded in); with
 * `input: 'float32'` it takes Immich's float32 NCHW `image` instead, as an
 * export does before vad folds it.
 */
export function buildVitImageModel(
  config: VitConfig = VIT_B32,
  seed = 32,
  options: ImageInputOptions = {},
): { bytes: Uint8Array; parameters: number } {
  const { imageSize, width, outputSize } = config;
  const random = new SeededRandom(seed);
  const g = new GraphBuilder('vad-bench-vitb32');
  const blocks = vitBlocks(g, random, width);
  const folded = (options.input ?? 'uint8') === 'uint8';
  const image = folded
    ? uint8Prelude(g, { feeds: 'image', size: imageSize, mean: CLIP_MEAN, std: CLIP_STD })
    : g.input('image', 'float', ['batch', 3, imageSize, imageSize]);
  const x = vitTrunk(blocks, config, image);
  const { w, layerNorm } = blocks;
  const pooled = layerNorm(g.op('Gather', [x, g.int64([0], [])], { axis: { int: 1 } }), 'ln_post');
  g.op('MatMul', [pooled, w('proj', [width, outputSize])], {}, 'embedding');
  g.output('embedding', 'float', ['batch', outputSize]);
  const metadata = folded
    ? preprocessingEntry({
        version: 1,
        input: UINT8_INPUT,
        dtype: 'uint8',
        layout: 'NHWC',
        size: imageSize,
        mean: CLIP_MEAN as [number, number, number],
        std: CLIP_STD as [number, number, number],
        feeds: 'image',
      })
    : {};
  return { bytes: g.serialize(17, metadata), parameters: g.parameterCount };
}
