import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import {
  buildModel,
  buildTinyImageModel,
  buildVitImageModel,
  CLIP_MEAN,
  CLIP_STD,
  PREPROCESSING_KEY,
  parsePreprocessing,
  tinyTokenizerJson,
  VIT_B32,
} from '../src/index.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const { onnx } = onnxProto;

/** The graph inputs (name, element type, dims) and metadata_props of a model. */
function describeModel(bytes: Uint8Array) {
  const model = onnx.ModelProto.decode(bytes);
  return {
    inputs: (model.graph?.input ?? []).map((i) => ({
      name: i.name,
      type: onnx.TensorProto.DataType[i.type?.tensorType?.elemType ?? 0],
      dims: (i.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue)),
    })),
    firstOps: (model.graph?.node ?? []).slice(0, 4).map((n) => n.opType),
    metadata: Object.fromEntries(model.metadataProps.map((e) => [e.key, e.value])),
  };
}

describe('built models', () => {
  it('builds the tiny test pair deterministically, with a tokenizer.json', async () => {
    const a = await buildModel('vad-test-tiny', mkdtempSync(join(tmpdir(), 'vad-m-')));
    const b = await buildModel('vad-test-tiny', mkdtempSync(join(tmpdir(), 'vad-m-')));
    expect(a.map((f) => f.sha256)).toEqual(b.map((f) => f.sha256));
    expect(a.map((f) => f.path.split('vad-test-tiny/')[1])).toEqual([
      'onnx/vision_model.onnx',
      'onnx/text_model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(sha(buildTinyImageModel())).toBe(a[0]?.sha256);
    expect(tinyTokenizerJson()).toMatchObject({ model: { type: 'WordPiece', vocab: { fire: expect.any(Number) } } });
  });

  it('builds a ViT-B/32-size image encoder: about 88M parameters, the same bytes for the same seed', () => {
    const full = buildVitImageModel(VIT_B32);
    expect(full.parameters).toBeGreaterThan(87_000_000);
    expect(full.parameters).toBeLessThan(89_000_000);
    expect(full.bytes.byteLength).toBeGreaterThan(full.parameters * 4);
    const small = { ...VIT_B32, width: 64, layers: 1, heads: 2, outputSize: 16 };
    expect(sha(buildVitImageModel(small, 7).bytes)).toBe(sha(buildVitImageModel(small, 7).bytes));
    expect(sha(buildVitImageModel(small, 7).bytes)).not.toBe(sha(buildVitImageModel(small, 8).bytes));
  });

  it("builds image encoders that take the frames' uint8 RGB bytes (NHWC), preprocessing in the graph, marked so", async () => {
    const [tinyImage] = await buildModel('vad-test-tiny', mkdtempSync(join(tmpdir(), 'vad-m-')));
    const tiny = describeModel(readFileSync(tinyImage?.path ?? ''));
    expect(tiny.inputs).toEqual([{ name: 'pixels_uint8', type: 'UINT8', dims: ['batch', 'height', 'width', 3] }]);
    expect(tiny.firstOps).toEqual(['Cast', 'Transpose', 'Sub', 'Div']);
    expect(parsePreprocessing(tiny.metadata[PREPROCESSING_KEY])).toEqual({
      version: 1,
      input: 'pixels_uint8',
      dtype: 'uint8',
      layout: 'NHWC',
      size: null,
      mean: CLIP_MEAN,
      std: CLIP_STD,
      feeds: 'pixel_values',
    });
    const small = { ...VIT_B32, width: 64, layers: 1, heads: 2, outputSize: 16 };
    const vit = describeModel(buildVitImageModel(small, 7).bytes);
    expect(vit.inputs).toEqual([{ name: 'pixels_uint8', type: 'UINT8', dims: ['batch', 224, 224, 3] }]);
    expect(vit.firstOps).toEqual(['Cast', 'Transpose', 'Sub', 'Div']);
    expect(parsePreprocessing(vit.metadata[PREPROCESSING_KEY])).toMatchObject({ size: 224, feeds: 'image' });
  });

  it('still builds the float32 NCHW variants an export has (the unfolded path, for tests and benchmarks)', () => {
    const tiny = describeModel(buildTinyImageModel({ input: 'float32' }));
    expect(tiny.inputs).toEqual([{ name: 'pixel_values', type: 'FLOAT', dims: ['batch', 3, 'height', 'width'] }]);
    expect(tiny.metadata).toEqual({});
    const small = { ...VIT_B32, width: 64, layers: 1, heads: 2, outputSize: 16 };
    const vit = buildVitImageModel(small, 7, { input: 'float32' });
    expect(describeModel(vit.bytes).inputs).toEqual([{ name: 'image', type: 'FLOAT', dims: ['batch', 3, 224, 224] }]);
    // The same weights either way: the prelude adds two constants, not parameters.
    expect(vit.parameters).toBe(buildVitImageModel(small, 7).parameters);
  });

  it('reads back only version 1 preprocessing records', () => {
    expect(parsePreprocessing(undefined)).toBeUndefined();
    expect(parsePreprocessing('{')).toBeInstanceOf(Error);
    expect(parsePreprocessing('{"version":2}')).toBeInstanceOf(Error);
  });
});
