import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, buildTinyImageModel, buildVitImageModel, tinyTokenizerJson, VIT_B32 } from '../src/index.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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
});
