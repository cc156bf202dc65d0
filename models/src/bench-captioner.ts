import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { BuiltFile } from './build-models.js';
import { GraphBuilder, SeededRandom } from './onnx-graph.js';
import { specialToken } from './tokenizer-json.js';
import { VIT_B32, type VitConfig, vitBlocks, vitTrunk } from './vit-b32-model.js';

/**
 * vad's benchmark captioner ("vad-bench-captioner"), not a trained model: a
 * ViT-B/32-architecture image encoder and a GPT-2-small-architecture decoder
 * with cross-attention to the encoder's hidden states, seeded random weights,
 * laid out like a Hugging Face Optimum export with a KV cache
 * (decoder_model.onnx for the first step, decoder_with_past_model.onnx for
 * the next ones). Its captions mean nothing and never end before the token
 * limit (its logits bias keeps the end token out): the worst-case cost of a
 * caption, which is what a benchmark wants.
 */

/** A GPT-2-style decoder with cross-attention. */
export interface Gpt2Config {
  layers: number;
  width: number;
  heads: number;
  vocabSize: number;
  /** Learned positions (the longest sequence). */
  positions: number;
}

/** GPT-2 small: 12 layers, width 768, 12 heads, 50257 tokens, 1024 positions. */
export const GPT2_SMALL: Gpt2Config = { layers: 12, width: 768, heads: 12, vocabSize: 50257, positions: 1024 };

export interface BenchCaptionerConfig {
  /** The image encoder (its outputSize is not used: the encoder outputs all hidden states). */
  encoder: VitConfig;
  decoder: Gpt2Config;
}

export const BENCH_CAPTIONER: BenchCaptionerConfig = { encoder: VIT_B32, decoder: GPT2_SMALL };

/** Files of a built vad-bench-captioner, by role, in its folder. */
export const BENCH_CAPTIONER_FILES = {
  encoder: 'onnx/encoder_model.onnx',
  decoder: 'onnx/decoder_model.onnx',
  decoderWithPast: 'onnx/decoder_with_past_model.onnx',
  /** The decoder weights, shared by both decoder graphs (ONNX external data). */
  decoderData: 'onnx/decoder_model.onnx_data',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

export const BENCH_END_TOKEN = '<|endoftext|>';

/** ViT's preprocessing (ViTImageProcessor): mean and std 0.5. */
export const BENCH_CAPTIONER_MEAN = [0.5, 0.5, 0.5] as const;
export const BENCH_CAPTIONER_STD = [0.5, 0.5, 0.5] as const;

const METADATA = { description: "vad's benchmark captioner (not a trained model): seeded random weights" };

/**
 * pixel_values [N,3,S,S] (normalised) → last_hidden_state [N,(S/patch)²+1,width]:
 * the ViT trunk of vad-bench-vitb32 followed by a final LayerNorm over every token,
 * as a Hugging Face ViTModel outputs it (no pooling, no projection).
 */
export function buildBenchCaptionEncoder(
  config: VitConfig = VIT_B32,
  seed = 224,
): { bytes: Uint8Array; parameters: number } {
  const { imageSize, patchSize, width } = config;
  const g = new GraphBuilder('vad-bench-captioner-encoder');
  const blocks = vitBlocks(g, new SeededRandom(seed), width);
  const image = g.input('pixel_values', 'float', ['batch_size', 3, imageSize, imageSize]);
  const hidden = vitTrunk(blocks, config, image);
  g.op('Identity', [blocks.layerNorm(hidden, 'post_layernorm')], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float', ['batch_size', (imageSize / patchSize) ** 2 + 1, width]);
  return { bytes: g.serialize(17, METADATA), parameters: g.parameterCount };
}

/** A synthetic word for each id (bijective base-20 syllables: unique, pronounceable). */
function syntheticWord(id: number): string {
  const syllables = 'ba ce di fo gu ha ke li mo nu pa re si to vu wa xe yi zo lu'.split(' ');
  let n = id + 1;
  let word = '';
  while (n > 0) {
    n -= 1;
    word += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  }
  return word;
}

/** A word-level tokenizer.json of `vocabSize` entries: synthetic words, then <|endoftext|> last (as GPT-2's 50256). */
export function benchCaptionerTokenizerJson(vocabSize: number = GPT2_SMALL.vocabSize): object {
  const vocab: Record<string, number> = {};
  for (let id = 0; id < vocabSize - 1; id++) vocab[syntheticWord(id)] = id;
  vocab[BENCH_END_TOKEN] = vocabSize - 1;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialToken(BENCH_END_TOKEN, vocabSize - 1)],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: BENCH_END_TOKEN },
  };
}

export function benchCaptionerTokenizerConfig(): object {
  return {
    bos_token: BENCH_END_TOKEN,
    eos_token: BENCH_END_TOKEN,
    pad_token: BENCH_END_TOKEN,
    unk_token: BENCH_END_TOKEN,
    model_max_length: 1024,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

const PAGE = 4096;
const PLACEHOLDER = new Float32Array(1);

/**
 * The decoder's random weights, drawn once in a fixed order and appended to
 * one external-data file (each tensor at a 4 KiB-aligned offset) that both
 * decoder graphs reference.
 */
class ExternalWeights {
  readonly entries = new Map<string, { dims: number[]; offset: number; length: number }>();
  private position = 0;
  private readonly hash: Hash = createHash('sha256');
  parameters = 0;

  constructor(
    private readonly fd: number,
    private readonly random: SeededRandom,
  ) {}

  /** The initializer `name` in `g` (a placeholder until `externalise`), drawn N(0, std²) the first time. */
  get(g: GraphBuilder, name: string, dims: number[], std: number): string {
    if (!this.entries.has(name)) {
      const count = dims.reduce((a, b) => a * b, 1);
      const padding = (PAGE - (this.position % PAGE)) % PAGE;
      if (padding) this.write(new Uint8Array(padding));
      const data = this.random.normal(count, std);
      this.entries.set(name, { dims, offset: this.position, length: data.byteLength });
      this.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.parameters += count;
    }
    return g.weight(name, [1], PLACEHOLDER);
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, null);
    this.hash.update(bytes);
    this.position += bytes.byteLength;
  }

  get bytes(): number {
    return this.position;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  /** The model with its placeholder initializers pointing into the external file `location` instead. */
  externalise(bytes: Uint8Array, location: string): Uint8Array {
    const { onnx } = onnxProto;
    const model = onnx.ModelProto.decode(bytes);
    const graph = model.graph;
    if (!graph) throw new Error('no graph');
    graph.initializer = (graph.initializer ?? []).map((tensor) => {
      const entry = this.entries.get(tensor.name ?? '');
      if (!entry) return tensor;
      return onnx.TensorProto.create({
        name: tensor.name,
        dims: entry.dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(entry.offset) },
          { key: 'length', value: String(entry.length) },
        ],
      });
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/**
 * A GPT-2 decoder graph with cross-attention, Optimum's names:
 * input_ids [N,T] int64, encoder_hidden_states [N,L,E] (+ past_key_values.{i}.key/value
 * [N,H,P,D] with `withPast`) → logits [N,T,V], present.{i}.key/value [N,H,P+T,D].
 */
function buildGpt2Decoder(config: Gpt2Config, encoderWidth: number, weights: ExternalWeights, withPast: boolean) {
  const { layers, width, heads, vocabSize, positions } = config;
  const headDim = width / heads;
  if (!Number.isInteger(headDim)) throw new Error(`width ${width} is not a multiple of ${heads} heads`);
  const g = new GraphBuilder(withPast ? 'vad-bench-captioner-decoder-with-past' : 'vad-bench-captioner-decoder');
  const projectionStd = 0.02 / Math.sqrt(2 * layers);
  const w = (name: string, dims: number[], std = 0.02) => weights.get(g, name, dims, std);
  const ones = (name: string, n: number) => g.weight(name, [n], new Float32Array(n).fill(1));
  const zeros = (name: string, n: number) => g.weight(name, [n], new Float32Array(n));
  const layerNorm = (x: string, name: string) =>
    g.op('LayerNormalization', [x, ones(`${name}.weight`, width), zeros(`${name}.bias`, width)], {
      axis: { int: -1 },
      epsilon: { float: 1e-5 },
    });
  const linear = (x: string, name: string, inputs: number, outputs: number, std = 0.02) =>
    g.op('Add', [g.op('MatMul', [x, w(`${name}.weight`, [inputs, outputs], std)]), zeros(`${name}.bias`, outputs)]);

  const ids = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const encoder = g.input('encoder_hidden_states', 'float', ['batch_size', 'encoder_sequence_length', encoderWidth]);
  const past = Array.from({ length: withPast ? layers : 0 }, (_, i) => {
    const dims = ['batch_size', heads, 'past_sequence_length', headDim];
    return {
      key: g.input(`past_key_values.${i}.key`, 'float', dims),
      value: g.input(`past_key_values.${i}.value`, 'float', dims),
    };
  });

  const scalar = (v: number) => g.int64([v], []);
  const pastLength = past[0]
    ? g.op('Gather', [g.op('Shape', [past[0].key]), scalar(2)], { axis: { int: 0 } })
    : scalar(0);
  const length = g.op('Gather', [g.op('Shape', [ids]), scalar(1)], { axis: { int: 0 } });
  const total = g.op('Add', [pastLength, length]);
  const positionIds = g.op('Range', [pastLength, total, scalar(1)]);
  const wte = w('wte.weight', [vocabSize, width]);
  let x = g.op('Add', [
    g.op('Gather', [wte, ids], { axis: { int: 0 } }),
    g.op('Gather', [w('wpe.weight', [positions, width], 0.01), positionIds], { axis: { int: 0 } }),
  ]);
  // Causal mask [T, P+T]: query i (at position P+i) does not see key j > P+i.
  const future = g.op('Greater', [
    g.op('Range', [scalar(0), total, scalar(1)]),
    g.op('Unsqueeze', [positionIds, g.int64([1])]),
  ]);
  const masked = g.float([-1e9], []);
  const scale = g.float([1 / Math.sqrt(headDim)], []);
  const headShape = g.int64([0, 0, heads, headDim]);
  const mergedShape = g.int64([0, 0, width]);
  const toHeads = (t: string, perm = [0, 2, 1, 3]) =>
    g.op('Transpose', [g.op('Reshape', [t, headShape])], { perm: { ints: perm } });
  const fromHeads = (t: string) =>
    g.op('Reshape', [g.op('Transpose', [t], { perm: { ints: [0, 2, 1, 3] } }), mergedShape]);
  const attend = (q: string, keysT: string, values: string, mask?: string) => {
    let scores = g.op('Mul', [g.op('MatMul', [q, keysT]), scale]);
    if (mask) scores = g.op('Where', [mask, masked, scores]);
    return g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), values]);
  };
  const split2 = g.int64([width, width]);
  const split3 = g.int64([width, width, width]);
  const c = 0.7978845608028654; // √(2/π)
  const [half, one, cubic, root] = [g.float([0.5], []), g.float([1], []), g.float([0.044715], []), g.float([c], [])];
  const geluNew = (t: string) => {
    const inner = g.op('Mul', [g.op('Add', [t, g.op('Mul', [g.op('Mul', [g.op('Mul', [t, t]), t]), cubic])]), root]);
    return g.op('Mul', [g.op('Mul', [t, half]), g.op('Add', [g.op('Tanh', [inner]), one])]);
  };
  const totalDims = ['batch_size', heads, 'total_sequence_length', headDim];

  for (let l = 0; l < layers; l++) {
    const p = `h.${l}`;
    // Self-attention over the past and the new tokens.
    const qkv = linear(layerNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`, width, 3 * width);
    const [q, k, v] = g.opMulti('Split', [qkv, split3], 3, { axis: { int: 2 } }) as [string, string, string];
    const layerPast = past[l];
    const keys = layerPast
      ? g.op('Concat', [layerPast.key, toHeads(k)], { axis: { int: 2 } }, `present.${l}.key`)
      : g.op('Identity', [toHeads(k)], {}, `present.${l}.key`);
    const values = layerPast
      ? g.op('Concat', [layerPast.value, toHeads(v)], { axis: { int: 2 } }, `present.${l}.value`)
      : g.op('Identity', [toHeads(v)], {}, `present.${l}.value`);
    const keysT = g.op('Transpose', [keys], { perm: { ints: [0, 1, 3, 2] } });
    const self = attend(toHeads(q), keysT, values, future);
    x = g.op('Add', [x, linear(fromHeads(self), `${p}.attn.c_proj`, width, width, projectionStd)]);
    // Cross-attention to the encoder's hidden states.
    const cq = linear(layerNorm(x, `${p}.ln_cross_attn`), `${p}.crossattention.q_attn`, width, width);
    const ckv = linear(encoder, `${p}.crossattention.c_attn`, encoderWidth, 2 * width);
    const [ck, cv] = g.opMulti('Split', [ckv, split2], 2, { axis: { int: 2 } }) as [string, string];
    const cross = attend(toHeads(cq), toHeads(ck, [0, 2, 3, 1]), toHeads(cv));
    x = g.op('Add', [x, linear(fromHeads(cross), `${p}.crossattention.c_proj`, width, width, projectionStd)]);
    // MLP.
    const m = linear(layerNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`, width, 4 * width);
    x = g.op('Add', [x, linear(geluNew(m), `${p}.mlp.c_proj`, 4 * width, width, projectionStd)]);
  }
  // Tied output embedding: logits = ln_f(x) · wteᵀ + final_logits_bias. With random weights the
  // embedding of the input token dominates, so the start token (the end token, as in GPT-2) would
  // follow itself at once: the bias keeps the end token out, and every caption runs to the limit.
  const flat = g.op('Reshape', [layerNorm(x, 'ln_f'), g.int64([-1, width])]);
  const bias = new Float32Array(vocabSize);
  bias[vocabSize - 1] = -1e4;
  const logits = g.op('Gemm', [flat, wte, g.weight('final_logits_bias', [vocabSize], bias)], { transB: { int: 1 } });
  const logitsShape = g.op('Concat', [g.op('Shape', [ids]), g.int64([vocabSize])], { axis: { int: 0 } });
  g.op('Reshape', [logits, logitsShape], {}, 'logits');
  g.output('logits', 'float', ['batch_size', 'decoder_sequence_length', vocabSize]);
  for (let l = 0; l < layers; l++) {
    g.output(`present.${l}.key`, 'float', totalDims);
    g.output(`present.${l}.value`, 'float', totalDims);
  }
  return g.serialize(17, METADATA);
}

async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<BuiltFile> {
  mkdirSync(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  return { path, bytes, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * Builds vad-bench-captioner into `folder` (BENCH_CAPTIONER_FILES):
 * deterministic, the same bytes for the same config and seed. The decoder
 * weights are streamed to their external-data file as they are drawn.
 */
export async function writeBenchCaptioner(
  folder: string,
  config: BenchCaptionerConfig = BENCH_CAPTIONER,
  seed = 50257,
): Promise<BuiltFile[]> {
  const files = BENCH_CAPTIONER_FILES;
  const built: BuiltFile[] = [];
  const encoder = buildBenchCaptionEncoder(config.encoder, seed);
  built.push(await writeFileAtomic(join(folder, files.encoder), encoder.bytes));

  const dataPath = join(folder, files.decoderData);
  mkdirSync(dirname(dataPath), { recursive: true });
  const fd = openSync(`${dataPath}.tmp`, 'w');
  let decoder: Uint8Array;
  let withPast: Uint8Array;
  const weights = new ExternalWeights(fd, new SeededRandom(seed + 1));
  try {
    decoder = buildGpt2Decoder(config.decoder, config.encoder.width, weights, false);
    withPast = buildGpt2Decoder(config.decoder, config.encoder.width, weights, true);
  } finally {
    closeSync(fd);
  }
  renameSync(`${dataPath}.tmp`, dataPath);
  const location = files.decoderData.split('/').at(-1) ?? files.decoderData;
  built.push(await writeFileAtomic(join(folder, files.decoder), weights.externalise(decoder, location)));
  built.push(await writeFileAtomic(join(folder, files.decoderWithPast), weights.externalise(withPast, location)));
  built.push({ path: dataPath, bytes: weights.bytes, sha256: weights.digest() });
  built.push(
    await writeFileAtomic(
      join(folder, files.tokenizer),
      JSON.stringify(benchCaptionerTokenizerJson(config.decoder.vocabSize)),
    ),
  );
  built.push(
    await writeFileAtomic(
      join(folder, files.tokenizerConfig),
      JSON.stringify(benchCaptionerTokenizerConfig(), null, 2),
    ),
  );
  return built;
}
