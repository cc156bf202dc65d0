import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTinyImageModel,
  buildTinyTextModel,
  buildVitImageModel,
  CLIP_MEAN,
  CLIP_STD,
  GraphBuilder,
  PREPROCESSING_KEY,
} from '@vad/models';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compareFolded,
  ensureFolded,
  FoldError,
  foldedPathOf,
  foldPreprocessing,
  ImageBatcher,
  type ImageBatcherOptions,
  imageIo,
  imageTensor,
  onnxHeader,
  planFold,
  readOnnxHeader,
  readPreprocessing,
  rgbToNchw,
  selectImageModel,
} from '../src/index.js';

const { onnx } = onnxProto;
const work = mkdtempSync(join(tmpdir(), 'vad-fold-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const mean = CLIP_MEAN as [number, number, number];
const std = CLIP_STD as [number, number, number];
const SMALL_VIT = { imageSize: 64, patchSize: 32, width: 64, layers: 2, heads: 2, outputSize: 16 };
const size = SMALL_VIT.imageSize;

/** Frames of varied bytes (every value 0..255 occurs), the same every run. */
function frames(count: number, side = size): Uint8Array {
  const out = new Uint8Array(count * side * side * 3);
  let state = 7;
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** The model's output for `rgb` through the session, fed as its input wants (JS-normalised float32, or the bytes). */
async function embed(model: Uint8Array | string, rgb: Uint8Array, count: number, side = size): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model as Uint8Array);
  try {
    const io = imageIo(session);
    const result = await session.run({ [io.input]: imageTensor(io.format, rgb, count, side, mean, std) });
    return new Float32Array(result[io.output]?.data as Float32Array);
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
};

describe('foldPreprocessing: the graph transform', () => {
  const floatVit = buildVitImageModel(SMALL_VIT, 5, { input: 'float32' }).bytes;

  it('replaces the float32 NCHW input by uint8 NHWC pixels_uint8 followed by Cast → Transpose → Sub → Div', () => {
    const folded = foldPreprocessing(floatVit, { mean, std, size });
    const model = onnx.ModelProto.decode(folded);
    const graph = model.graph as onnxProto.onnx.GraphProto;
    expect(graph.input.map((i) => i.name)).toEqual(['pixels_uint8']);
    const tensorType = graph.input[0]?.type?.tensorType;
    expect(tensorType?.elemType).toBe(onnx.TensorProto.DataType.UINT8);
    expect(tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 64, 64, 3]);
    const prelude = graph.node.slice(0, 4) as onnxProto.onnx.NodeProto[];
    expect(prelude.map((n) => n.opType)).toEqual(['Cast', 'Transpose', 'Sub', 'Div']);
    expect(prelude[0]?.input).toEqual(['pixels_uint8']);
    const [cast, transpose] = prelude.map((n) => n.attribute[0] as onnxProto.onnx.AttributeProto);
    expect(cast?.name).toBe('to');
    expect(Number(cast?.i)).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(transpose?.ints.map(Number)).toEqual([0, 3, 1, 2]);
    expect(prelude[3]?.output).toEqual(['image']); // the original input's name: the rest of the graph is untouched
    const constant = (name: string) => {
      const t = graph.initializer.find((i) => i.name === name) as onnxProto.onnx.TensorProto;
      expect(t.dims.map(Number)).toEqual([1, 3, 1, 1]);
      return Array.from(new Float32Array(t.rawData.slice().buffer));
    };
    expect(constant(prelude[2]?.input[1] as string)).toEqual(mean.map((v) => Math.fround(v * 255)));
    expect(constant(prelude[3]?.input[1] as string)).toEqual(std.map((v) => Math.fround(v * 255)));
    // Same opset and IR version; the original nodes and weights follow unchanged.
    const original = onnx.ModelProto.decode(floatVit);
    const originalGraph = original.graph as onnxProto.onnx.GraphProto;
    expect(model.opsetImport).toEqual(original.opsetImport);
    expect(Number(model.irVersion)).toBe(Number(original.irVersion));
    expect(graph.node.slice(4).map((n) => n.name)).toEqual(originalGraph.node.map((n) => n.name));
    expect(graph.initializer.length).toBe(originalGraph.initializer.length + 2);
    expect(JSON.parse(onnxHeader(folded).metadata[PREPROCESSING_KEY] ?? '')).toEqual({
      version: 1,
      input: 'pixels_uint8',
      dtype: 'uint8',
      layout: 'NHWC',
      size: 64,
      mean,
      std,
      feeds: 'image',
    });
  });

  it('gives the embeddings of the JavaScript path (rgbToNchw), to 1e-5', async () => {
    const rgb = frames(4);
    const js = await embed(floatVit, rgb, 4);
    const folded = await embed(foldPreprocessing(floatVit, { mean, std, size }), rgb, 4);
    expect(maxAbsDiff(js, folded)).toBeLessThanOrEqual(1e-5);
    // And the same as the model vad builds with the prelude in its graph (GraphBuilder, not the fold).
    expect(maxAbsDiff(js, await embed(buildVitImageModel(SMALL_VIT, 5).bytes, rgb, 4))).toBeLessThanOrEqual(1e-5);
    // The tiny test model too: its embeddings for the same frames are those of before (float32 + JS).
    const tinyRgb = frames(3, 224);
    const tinyJs = await embed(buildTinyImageModel({ input: 'float32' }), tinyRgb, 3, 224);
    expect(maxAbsDiff(tinyJs, await embed(buildTinyImageModel(), tinyRgb, 3, 224))).toBeLessThanOrEqual(1e-5);
    const tinyFolded = foldPreprocessing(buildTinyImageModel({ input: 'float32' }), { mean, std, size: 224 });
    expect(maxAbsDiff(tinyJs, await embed(tinyFolded, tinyRgb, 3, 224))).toBeLessThanOrEqual(1e-5);
  });

  it('the normalisation itself matches rgbToNchw to 1e-5 on every byte value', async () => {
    // An identity "encoder": output = the normalised input, flattened.
    const g = new GraphBuilder('identity');
    const x = g.input('pixel_values', 'float', ['batch', 3, 16, 16]);
    g.op('Flatten', [x], { axis: { int: 1 } }, 'image_embeds');
    g.output('image_embeds', 'float', ['batch', 768]);
    const folded = foldPreprocessing(g.serialize(), { mean, std, size: 16 });
    const rgb = Uint8Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => i % 256);
    const expected = rgbToNchw(rgb, 2, 16, mean, std);
    const session = await ort.InferenceSession.create(folded);
    const result = await session.run({ pixels_uint8: new ort.Tensor('uint8', rgb, [2, 16, 16, 3]) });
    expect(maxAbsDiff(expected, result.image_embeds?.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    await session.release();
  });

  it('never folds twice: a folded model (or one vad built) comes back unchanged', () => {
    const once = foldPreprocessing(floatVit, { mean, std, size });
    expect(foldPreprocessing(once, { mean, std, size })).toBe(once);
    expect(planFold(once, { mean, std, size })).toMatchObject({
      status: 'already-folded',
      metadata: { feeds: 'image' },
    });
    const built = buildVitImageModel(SMALL_VIT, 5).bytes;
    expect(foldPreprocessing(built, { mean, std, size })).toBe(built);
    expect(planFold(buildTinyImageModel(), { mean, std, size: 224 })).toMatchObject({
      status: 'already-folded',
      metadata: { input: 'pixels_uint8', size: null },
    });
  });

  it('keeps fields it does not know byte for byte (a newer ONNX), editing the wire format only', () => {
    // Field 99 of ModelProto, a varint: unknown to every ONNX schema.
    const extra = Uint8Array.from([0x98, 0x06, 0x2a]);
    const withExtra = new Uint8Array([...floatVit, ...extra]);
    const folded = foldPreprocessing(withExtra, { mean, std, size });
    expect(Buffer.from(folded).includes(Buffer.from(extra))).toBe(true);
  });

  it('refuses what is not a float32 NCHW image input, with a clear message', () => {
    const text = buildTinyTextModel();
    expect(() => foldPreprocessing(text, { mean, std })).toThrow(FoldError);
    expect(() => foldPreprocessing(text, { mean, std })).toThrow(
      'cannot tell which input is the image (inputs: input_ids, attention_mask)',
    );
    expect(() => foldPreprocessing(text, { mean, std, input: 'input_ids' })).toThrow(
      'the image input input_ids is int64 [batch, sequence]: not float32; vad folds float32 NCHW [batch, 3, S, S] inputs',
    );
    const nhwc = new GraphBuilder('nhwc');
    const x = nhwc.input('pixel_values', 'float', ['batch', 224, 224, 3]);
    nhwc.op('ReduceMean', [x], { axes: { ints: [1, 2] }, keepdims: { int: 0 } }, 'image_embeds');
    nhwc.output('image_embeds', 'float', ['batch', 3]);
    expect(() => foldPreprocessing(nhwc.serialize(), { mean, std })).toThrow(
      'the image input pixel_values is float [batch, 224, 224, 3]: 224 channels, not 3 (channels first); vad folds float32 NCHW [batch, 3, S, S] inputs',
    );
    expect(() => foldPreprocessing(floatVit, { mean, std, size: 224 })).toThrow(
      /is float \[batch, 3, 64, 64\]: its side is 64, the model spec's input size 224/,
    );
    expect(() => foldPreprocessing(new TextEncoder().encode('not a model at all'), { mean, std })).toThrow(
      /^not an ONNX model/,
    );
  });

  it('refuses external-data weights and opsets before 7', () => {
    const model = onnx.ModelProto.decode(buildTinyImageModel({ input: 'float32' }));
    const graph = model.graph as onnxProto.onnx.GraphProto;
    const weight = graph.initializer.find((i) => i.name === 'colour_projection') as onnxProto.onnx.TensorProto;
    weight.rawData = new Uint8Array();
    weight.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    weight.externalData = [{ key: 'location', value: 'weights.bin' }];
    expect(() => foldPreprocessing(onnx.ModelProto.encode(model).finish(), { mean, std })).toThrow(
      'its weights are in external-data files (colour_projection): vad folds single-file models only; export the model as one .onnx file (under 2 GB)',
    );
    const old = onnx.ModelProto.decode(buildTinyImageModel({ input: 'float32' }));
    old.opsetImport = [{ domain: '', version: 6 }];
    expect(() => foldPreprocessing(onnx.ModelProto.encode(old).finish(), { mean, std })).toThrow(
      /imports ONNX opset 6; folding needs opset 7 or later/,
    );
  });

  it('reads a file header (metadata, opsets) without reading the graph', async () => {
    const path = join(work, 'header.onnx');
    const folded = foldPreprocessing(floatVit, { mean, std, size });
    writeFileSync(path, folded);
    const header = await readOnnxHeader(path);
    expect(header).toEqual(onnxHeader(folded));
    expect(header.opsets.get('')).toBe(17);
    expect(await readPreprocessing(path)).toMatchObject({ input: 'pixels_uint8', size: 64 });
  });
});

describe('installed models: the folded file beside the original', () => {
  const expected = { mean, std, size };

  it('folds once, is up to date after, and folds again when the original is replaced', async () => {
    const dir = join(work, 'install');
    mkdirSync(dir, { recursive: true });
    const original = join(dir, 'vision_model.onnx');
    writeFileSync(original, buildVitImageModel(SMALL_VIT, 5, { input: 'float32' }).bytes);
    expect(await selectImageModel(original, expected, 'm')).toEqual({ path: original, kind: 'original' });

    const first = await ensureFolded(original, expected);
    expect(first).toMatchObject({ status: 'folded', path: foldedPathOf(original) });
    expect(first.path).toBe(join(dir, 'vision_model.vad-folded.onnx'));
    expect(first.difference).toBeLessThan(1e-5);
    expect(await compareFolded(original, first.path, expected)).toBe(first.difference);
    expect(await ensureFolded(original, expected)).toEqual({ status: 'up-to-date', path: first.path });
    expect(await selectImageModel(original, expected, 'm')).toEqual({ path: first.path, kind: 'folded' });

    // Another spec (mean/std) than the fold's: the folded file is not used.
    expect(await selectImageModel(original, { mean: [0.5, 0.5, 0.5], std, size }, 'm')).toMatchObject({
      path: original,
      kind: 'original',
      notice: expect.stringMatching(
        /^not using .*vision_model\.vad-folded\.onnx: it was folded with mean .*; fold it again with: vad models fold m$/,
      ),
    });

    // The original replaced (another seed, same size): the old folded file is stale, whatever its mtime.
    writeFileSync(original, buildVitImageModel(SMALL_VIT, 6, { input: 'float32' }).bytes);
    utimesSync(original, new Date(0), new Date(0));
    expect(await selectImageModel(original, expected, 'm')).toMatchObject({
      path: original,
      notice: expect.stringContaining('vision_model.onnx changed since it was folded'),
    });
    expect((await ensureFolded(original, expected)).status).toBe('folded');
    expect((await selectImageModel(original, expected)).kind).toBe('folded');
  });

  it('a model vad built takes uint8 itself; one that cannot be folded says why and leaves nothing', async () => {
    const built = join(work, 'built.onnx');
    writeFileSync(built, buildVitImageModel(SMALL_VIT, 5).bytes);
    expect(await ensureFolded(built, expected)).toEqual({ status: 'native', path: built });
    expect(await selectImageModel(built, expected)).toEqual({ path: built, kind: 'native' });
    const text = join(work, 'text.onnx');
    writeFileSync(text, buildTinyTextModel());
    const outcome = await ensureFolded(text, expected);
    expect(outcome).toEqual({
      status: 'failed',
      path: text,
      reason: 'cannot tell which input is the image (inputs: input_ids, attention_mask)',
    });
    expect(() => readFileSync(foldedPathOf(text))).toThrow(/ENOENT/);
  });
});

describe('the image batcher on a folded and an unfolded model', () => {
  it('both paths give the same embeddings (≤ 1e-5); the uint8 one hands the bytes over without per-pixel work', async () => {
    const dir = join(work, 'batcher');
    mkdirSync(dir, { recursive: true });
    const original = join(dir, 'vision_model.onnx');
    writeFileSync(original, buildVitImageModel(SMALL_VIT, 9, { input: 'float32' }).bytes);
    const options: ImageBatcherOptions = {
      modelPath: original,
      provider: 'cpu',
      threads: 1,
      graphOptimization: 'all',
      inputSize: size,
      mean,
      std,
      embeddingSize: 16,
      batchSize: 8,
      maxWaitMs: 5,
      model: 'small',
    };
    const rgb = frames(20);
    const unfolded = await ImageBatcher.start(options);
    expect(unfolded.loaded).toEqual({ path: original, kind: 'original' });
    expect(unfolded.preprocessing).toBe('js');
    expect(unfolded.notice).toBe(
      `${original} takes float32 pixels, so frames are normalised in JavaScript in the inference thread (a per-pixel loop that limits throughput, most of all on a GPU); fold the preprocessing into the model with: vad models fold small`,
    );
    const viaJs = await unfolded.embed(rgb, 20);
    await unfolded.close();

    expect((await ensureFolded(original, { mean, std, size })).status).toBe('folded');
    const folded = await ImageBatcher.start(options);
    expect(folded.loaded).toEqual({ path: foldedPathOf(original), kind: 'folded' });
    expect(folded.preprocessing).toBe('graph');
    expect(folded.ready.input).toBe('pixels_uint8');
    expect(folded.notice).toBeUndefined();
    // Segments of several jobs merged into batches, as in the embed worker (views into bigger buffers too).
    const viaGraph = (
      await Promise.all([
        folded.embed(rgb.subarray(0, 7 * size * size * 3), 7),
        folded.embed(rgb.subarray(7 * size * size * 3), 13),
      ])
    ).flat();
    expect(viaGraph).toHaveLength(20);
    const diff = Math.max(...viaGraph.map((v, i) => maxAbsDiff(v, viaJs[i] as Float32Array)));
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(folded.stats.preprocessMs).toBeGreaterThanOrEqual(0);
    expect(folded.stats.frames).toBe(20);
    await folded.close();

    // preferFolded: false loads the given file as it is.
    const asIs = await ImageBatcher.start({ ...options, preferFolded: false });
    expect(asIs.preprocessing).toBe('js');
    await asIs.close();
  });

  it('refuses frames of the wrong size on the uint8 path too, failing only that job', async () => {
    const path = join(work, 'tiny-uint8.onnx');
    writeFileSync(path, buildTinyImageModel());
    const batcher = await ImageBatcher.start({
      modelPath: path,
      provider: 'cpu',
      threads: 1,
      graphOptimization: 'all',
      inputSize: 224,
      mean,
      std,
      embeddingSize: 8,
      batchSize: 4,
      maxWaitMs: 5,
    });
    expect(batcher.loaded.kind).toBe('native');
    await expect(batcher.embed(new Uint8Array(100), 1)).rejects.toThrow(/expected 1 frames of 224x224 RGB/);
    expect(await batcher.embed(frames(2, 224), 2)).toHaveLength(2);
    await batcher.close();
  });
});
