import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BENCH_CAPTIONER,
  BENCH_CAPTIONER_FILES,
  BENCH_END_TOKEN,
  type BenchCaptionerConfig,
  BUILT_MODELS,
  buildModel,
  buildVitImageModel,
  GPT2_SMALL,
  TINY_CAPTIONER_GENERATION,
  TINY_CAPTIONER_SPECIAL,
  TINY_CAPTIONS,
  tinyCaptionerTokenizerJson,
  tinyCaptionerVocabulary,
  VIT_B32,
  writeBenchCaptioner,
} from '../src/index.js';

const { onnx } = onnxProto;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const folders: string[] = [];
const temporary = () => {
  const folder = mkdtempSync(join(tmpdir(), 'vad-captioner-'));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** Inputs (name, dims), outputs and initializers of a model file. */
function graphOf(path: string) {
  const model = onnx.ModelProto.decode(readFileSync(path));
  const dims = (v: onnxProto.onnx.IValueInfoProto) =>
    (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue));
  const graph = model.graph;
  return {
    inputs: (graph?.input ?? []).map((i) => ({ name: i.name, dims: dims(i) })),
    outputs: (graph?.output ?? []).map((o) => ({ name: o.name, dims: dims(o) })),
    initializers: graph?.initializer ?? [],
  };
}

describe("vad's tiny synthetic test captioner", () => {
  it('builds deterministically: an encoder, decoders of the three layouts, a word-level tokenizer', async () => {
    const a = await buildModel('vad-test-captioner', temporary());
    const b = await buildModel('vad-test-captioner', temporary());
    expect(BUILT_MODELS).toContain('vad-test-captioner');
    expect(a.map((f) => f.sha256)).toEqual(b.map((f) => f.sha256));
    expect(a.map((f) => f.path.split('vad-test-captioner/')[1])).toEqual([
      'onnx/encoder_model.onnx',
      'onnx/decoder_model.onnx',
      'onnx/with-past/decoder_model.onnx',
      'onnx/with-past/decoder_with_past_model.onnx',
      'onnx/decoder_model_merged.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(a.every((f) => f.bytes < 100_000)).toBe(true);
    const [encoder, decoder] = a.slice(0, 2).map((f) => graphOf(f.path));
    expect(encoder?.inputs).toEqual([{ name: 'pixel_values', dims: ['batch_size', 3, 224, 224] }]);
    expect(encoder?.outputs).toEqual([{ name: 'last_hidden_state', dims: ['batch_size', 4, 8] }]);
    expect(decoder?.inputs.map((i) => i.name)).toEqual(['input_ids', 'encoder_hidden_states']);
    expect(decoder?.outputs.map((o) => o.name)).toEqual(['logits']);
  });

  it('has every word of its known sentences, and distinct start, end and pad tokens', () => {
    const vocabulary = tinyCaptionerVocabulary();
    for (const { text } of Object.values(TINY_CAPTIONS))
      for (const word of text.split(' ')) expect(vocabulary).toContain(word);
    const { decoderStartTokenId, eosTokenId, padTokenId } = TINY_CAPTIONER_GENERATION;
    expect([vocabulary[decoderStartTokenId], vocabulary[eosTokenId], vocabulary[padTokenId]]).toEqual([
      TINY_CAPTIONER_SPECIAL.start,
      TINY_CAPTIONER_SPECIAL.end,
      TINY_CAPTIONER_SPECIAL.pad,
    ]);
    expect(tinyCaptionerTokenizerJson()).toMatchObject({
      model: { type: 'WordLevel', vocab: { fire: expect.any(Number) } },
    });
    expect(TINY_CAPTIONS.grey.rgb).toEqual([128, 128, 128]);
  });
});

describe("vad's benchmark captioner", () => {
  it('is ViT-B/32 + GPT-2 small at full size', () => {
    expect(BENCH_CAPTIONER.encoder).toEqual(VIT_B32);
    expect(GPT2_SMALL).toEqual({ layers: 12, width: 768, heads: 12, vocabSize: 50257, positions: 1024 });
    expect(BUILT_MODELS).toContain('vad-bench-captioner');
  });

  const small: BenchCaptionerConfig = {
    encoder: { ...VIT_B32, width: 64, layers: 1, heads: 2 },
    decoder: { layers: 1, width: 32, heads: 4, vocabSize: 300, positions: 32 },
  };

  it('builds (reduced) deterministically, with the with-past layout and shared external weights', async () => {
    const first = temporary();
    const a = await writeBenchCaptioner(first, small);
    const b = await writeBenchCaptioner(temporary(), small);
    expect(a.map((f) => f.sha256)).toEqual(b.map((f) => f.sha256));
    expect(a.map((f) => f.path.slice(first.length + 1))).toEqual([
      BENCH_CAPTIONER_FILES.encoder,
      BENCH_CAPTIONER_FILES.decoder,
      BENCH_CAPTIONER_FILES.decoderWithPast,
      BENCH_CAPTIONER_FILES.decoderData,
      BENCH_CAPTIONER_FILES.tokenizer,
      BENCH_CAPTIONER_FILES.tokenizerConfig,
    ]);
    for (const f of a) expect(statSync(f.path).size).toBe(f.bytes);
    const data = a[3];
    expect(sha(readFileSync(data?.path ?? ''))).toBe(data?.sha256);
    expect(await writeBenchCaptioner(temporary(), small, 7).then((c) => c[3]?.sha256)).not.toBe(data?.sha256);

    const encoder = graphOf(join(first, BENCH_CAPTIONER_FILES.encoder));
    expect(encoder.inputs).toEqual([{ name: 'pixel_values', dims: ['batch_size', 3, 224, 224] }]);
    expect(encoder.outputs).toEqual([{ name: 'last_hidden_state', dims: ['batch_size', 50, 64] }]);

    const decoder = graphOf(join(first, BENCH_CAPTIONER_FILES.decoder));
    expect(decoder.inputs).toEqual([
      { name: 'input_ids', dims: ['batch_size', 'decoder_sequence_length'] },
      { name: 'encoder_hidden_states', dims: ['batch_size', 'encoder_sequence_length', 64] },
    ]);
    const present = [
      { name: 'present.0.key', dims: ['batch_size', 4, 'total_sequence_length', 8] },
      { name: 'present.0.value', dims: ['batch_size', 4, 'total_sequence_length', 8] },
    ];
    expect(decoder.outputs).toEqual([
      { name: 'logits', dims: ['batch_size', 'decoder_sequence_length', 300] },
      ...present,
    ]);
    const withPast = graphOf(join(first, BENCH_CAPTIONER_FILES.decoderWithPast));
    expect(withPast.inputs).toEqual([
      ...decoder.inputs,
      { name: 'past_key_values.0.key', dims: ['batch_size', 4, 'past_sequence_length', 8] },
      { name: 'past_key_values.0.value', dims: ['batch_size', 4, 'past_sequence_length', 8] },
    ]);
    expect(withPast.outputs).toEqual(decoder.outputs);

    // Both decoders point at the same weights in decoder_model.onnx_data, each at a 4 KiB boundary.
    const external = (graph: ReturnType<typeof graphOf>) =>
      graph.initializers
        .filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
        .map((t) => ({ name: t.name, ...Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value])) }));
    const weights = external(decoder);
    expect(weights.map((w) => w.name)).toContain('wte.weight');
    expect(external(withPast)).toEqual(weights);
    for (const w of weights) {
      expect(w.location).toBe('decoder_model.onnx_data');
      expect(Number(w.offset) % 4096).toBe(0);
      expect(Number(w.offset) + Number(w.length)).toBeLessThanOrEqual(data?.bytes ?? 0);
    }

    const tokenizer = JSON.parse(readFileSync(join(first, BENCH_CAPTIONER_FILES.tokenizer), 'utf8'));
    const vocab = tokenizer.model.vocab as Record<string, number>;
    expect(Object.keys(vocab)).toHaveLength(300);
    expect(new Set(Object.values(vocab)).size).toBe(300);
    expect(vocab[BENCH_END_TOKEN]).toBe(299);
  });

  it('leaves the bytes of vad-bench-vitb32 as they were (its ViT trunk is shared)', () => {
    const vit = { ...VIT_B32, width: 64, layers: 1, heads: 2, outputSize: 16 };
    expect(sha(buildVitImageModel(vit, 7).bytes)).toBe(
      'eee94bcfea984da0615a51594bb0ec375d11501fa5c81715f37a4d123f6aa161',
    );
    expect(sha(buildVitImageModel(vit, 7, { input: 'float32' }).bytes)).toBe(
      '8cdc71bff11f8abaac87703ce7a3d83c0efed7e481ed4afe08fbb93375d78294',
    );
  });
});
