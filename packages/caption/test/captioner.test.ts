import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, ModelNotInstalledError, type SessionOptions } from '@vad/clip';
import {
  BENCH_CAPTIONER,
  type BenchCaptionerConfig,
  buildModel,
  TINY_CAPTIONER_LAYOUTS,
  TINY_CAPTIONS,
  type TinyCaptionClass,
  writeBenchCaptioner,
} from '@vad/models';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaptionerNotInstalledError,
  type CaptionerSpec,
  CaptionTokenizer,
  captionerFiles,
  captionerSpecSchema,
  getCaptionerSpec,
  ImageCaptioner,
  loadCaptionerManifest,
  resolveCaptionerPaths,
} from '../src/index.js';

const CPU: SessionOptions = { provider: 'cpu', threads: 1, graphOptimization: 'all' };
const SIZE = 224;
const modelDir = mkdtempSync(join(tmpdir(), 'vad-caption-'));
const tiny = getCaptionerSpec('vad-test-captioner');
const CLASSES = Object.keys(TINY_CAPTIONS) as TinyCaptionClass[];

function solid([r, g, b]: readonly number[], width = SIZE, height = SIZE): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) out.set([r ?? 0, g ?? 0, b ?? 0], p * 3);
  return out;
}

/** The tiny captioner's spec with another of its decoder layouts. */
function tinyWith(layout: keyof typeof TINY_CAPTIONER_LAYOUTS): CaptionerSpec {
  const files = TINY_CAPTIONER_LAYOUTS[layout];
  const path = (p: string | undefined) => (p ? { path: p } : undefined);
  return {
    ...tiny,
    files: {
      ...tiny.files,
      decoder: path('decoder' in files ? files.decoder : undefined),
      decoderWithPast: path('decoderWithPast' in files ? files.decoderWithPast : undefined),
      decoderMerged: path('decoderMerged' in files ? files.decoderMerged : undefined),
    },
  };
}

let captioner: ImageCaptioner;

beforeAll(async () => {
  await buildModel('vad-test-captioner', modelDir);
  captioner = await ImageCaptioner.load(modelDir, 'vad-test-captioner', CPU);
});

afterAll(async () => {
  await captioner?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

describe('captioner manifest', () => {
  it('lists the real export to download and vad’s two synthetic captioners to build', () => {
    const { captioners } = loadCaptionerManifest();
    expect(Object.keys(captioners)).toEqual(
      expect.arrayContaining(['vit-gpt2-image-captioning', 'vad-test-captioner', 'vad-bench-captioner']),
    );
    const real = captioners['vit-gpt2-image-captioning'];
    expect(real?.source).toMatchObject({
      type: 'download',
      baseUrl: 'https://huggingface.co/Xenova/vit-gpt2-image-captioning/resolve/main/',
    });
    expect(real?.generation).toMatchObject({ decoderStartTokenId: 50256, eosTokenId: 50256, numBeams: 1 });
    expect(captionerFiles(real as CaptionerSpec).map((f) => f.file.path)).toEqual([
      'onnx/encoder_model.onnx',
      'onnx/decoder_model_merged.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    for (const name of ['vad-test-captioner', 'vad-bench-captioner']) {
      const spec = captioners[name];
      expect(spec?.synthetic).toBe(true);
      expect(spec?.source).toEqual({ type: 'built', command: `npm run models:build -- ${name}` });
      expect(spec?.description).toMatch(/^vad's .*not a trained model/);
    }
  });

  it('rejects a spec without a decoder, or a with-past decoder without its first step', () => {
    const files = { encoder: { path: 'e.onnx' }, tokenizer: { path: 't.json' } };
    const spec = { ...tiny, files };
    expect(captionerSpecSchema.safeParse(spec).error?.issues[0]?.message).toMatch(/neither decoder nor decoderMerged/);
    const withPastOnly = {
      ...tiny,
      files: { ...files, decoderMerged: { path: 'm.onnx' }, decoderWithPast: { path: 'p.onnx' } },
    };
    expect(captionerSpecSchema.safeParse(withPastOnly).error?.issues[0]?.message).toMatch(/needs decoder/);
    expect(
      captionerSpecSchema.parse({ ...tiny, files: { ...files, decoderMerged: { path: 'm.onnx' } } }).files.externalData,
    ).toEqual([]);
  });

  it('leaves the models section to @vad/clip, which still reads the manifest', () => {
    expect(Object.keys(loadManifest().models)).toContain('vad-test-tiny');
  });
});

describe("vad's tiny synthetic test captioner", () => {
  it('finds the no-cache layout in the manifest entry', () => {
    expect(captioner.layout).toBe('no-cache');
    expect(captioner.provider).toBe('cpu');
  });

  it('captions solid colours with their known sentences, batched, mixed colours in one call', async () => {
    const order: TinyCaptionClass[] = ['grey', 'fire', 'green', 'blue', 'dark', 'fire', 'grey'];
    const captions = await captioner.caption(
      order.map((c) => solid(TINY_CAPTIONS[c].rgb)),
      { batchSize: 3 },
    );
    expect(captions.map((c) => c.text)).toEqual(order.map((c) => TINY_CAPTIONS[c].text));
    const [first] = captions;
    expect(first?.tokens).toEqual(TINY_CAPTIONS.grey.text.split(' '));
    expect(first?.tokenIds).toHaveLength(4);
    expect(first?.finished).toBe(true);
    expect(first?.score).toBeGreaterThan(-0.01);
  });

  it('captions near colours too: pure red, the test videos’ mid-grey, an orange', async () => {
    const captions = await captioner.caption([solid([255, 0, 0]), solid([127, 128, 129]), solid([255, 140, 0])]);
    expect(captions.map((c) => c.text)).toEqual([
      TINY_CAPTIONS.fire.text,
      TINY_CAPTIONS.grey.text,
      TINY_CAPTIONS.fire.text,
    ]);
  });

  it('resizes frames of other sizes and reads image files', async () => {
    const file = join(modelDir, 'blue.png');
    await sharp(solid(TINY_CAPTIONS.blue.rgb, 40, 30), { raw: { width: 40, height: 30, channels: 3 } })
      .png()
      .toFile(file);
    const captions = await captioner.caption([
      { rgb: solid(TINY_CAPTIONS.green.rgb, 64, 48), width: 64, height: 48 },
      { path: file },
    ]);
    expect(captions.map((c) => c.text)).toEqual([TINY_CAPTIONS.green.text, TINY_CAPTIONS.blue.text]);
    await expect(captioner.caption([new Uint8Array(10)])).rejects.toThrow(/224x224 RGB/);
  });

  it('decodes with its tokenizer.json, skipping special tokens (and nothing to an empty text)', async () => {
    const folder = join(modelDir, 'vad-test-captioner');
    const tokenizer = await CaptionTokenizer.load(
      join(folder, 'tokenizer.json'),
      join(folder, 'tokenizer_config.json'),
    );
    const ids = tokenizer.encode(TINY_CAPTIONS.dark.text);
    expect(ids).toHaveLength(5);
    expect(tokenizer.decode([0, ...ids, 1, 2, 2])).toBe(TINY_CAPTIONS.dark.text);
    expect(tokenizer.decode([])).toBe('');
  });

  it('stops at maxNewTokens', async () => {
    const [caption] = await captioner.caption([solid(TINY_CAPTIONS.fire.rgb)], { maxNewTokens: 2 });
    expect(caption).toMatchObject({ text: 'fire and', finished: false });
  });

  it('gives the same captions with beam search', async () => {
    const images = CLASSES.map((c) => solid(TINY_CAPTIONS[c].rgb));
    const beam = await captioner.caption(images, { numBeams: 3, batchSize: 2 });
    expect(beam.map((c) => c.text)).toEqual(CLASSES.map((c) => TINY_CAPTIONS[c].text));
  });

  it.each([
    ['with-past', 'decoder_model.onnx, then decoder_with_past_model.onnx with the KV cache'],
    ['merged', 'decoder_model_merged.onnx, empty past and use_cache_branch false first'],
  ] as const)('runs the %s layout (%s) to the same sentences, greedy and beam', async (layout, _how) => {
    const cached = await ImageCaptioner.load(modelDir, 'vad-test-captioner', CPU, { spec: tinyWith(layout) });
    try {
      expect(cached.layout).toBe(layout);
      const images = CLASSES.map((c) => solid(TINY_CAPTIONS[c].rgb));
      const expected = CLASSES.map((c) => TINY_CAPTIONS[c].text);
      expect((await cached.caption(images, { batchSize: 4 })).map((c) => c.text)).toEqual(expected);
      expect((await cached.caption(images, { numBeams: 2 })).map((c) => c.text)).toEqual(expected);
    } finally {
      await cached.close();
    }
  });

  it('says how to install a captioner whose files are missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'vad-caption-empty-'));
    const load = ImageCaptioner.load(empty, 'vad-test-captioner', CPU);
    await expect(load).rejects.toBeInstanceOf(CaptionerNotInstalledError);
    await expect(load).rejects.toBeInstanceOf(ModelNotInstalledError);
    await expect(load).rejects.toThrow(
      /captioner "vad-test-captioner" is not installed \(missing .*encoder_model.onnx\); build it with: npm run models:build -- vad-test-captioner/,
    );
    const real = getCaptionerSpec('vit-gpt2-image-captioning');
    expect(() => resolveCaptionerPaths(empty, 'vit-gpt2-image-captioning', real)).toThrow(
      /fetch it with: vad models fetch vit-gpt2-image-captioning/,
    );
    await expect(ImageCaptioner.load(empty, 'no-such-captioner', CPU)).rejects.toThrow(
      /unknown captioner "no-such-captioner".*vad-test-captioner/,
    );
    rmSync(empty, { recursive: true, force: true });
  });
});

describe("vad's benchmark captioner, reduced (1-layer ViT, 2-layer GPT-2 with cross-attention)", () => {
  const small: BenchCaptionerConfig = {
    encoder: { ...BENCH_CAPTIONER.encoder, width: 64, layers: 1, heads: 2 },
    decoder: { layers: 2, width: 64, heads: 4, vocabSize: 2000, positions: 64 },
  };
  const end = small.decoder.vocabSize - 1;
  const bench = getCaptionerSpec('vad-bench-captioner');
  const spec: CaptionerSpec = {
    ...bench,
    generation: { ...bench.generation, decoderStartTokenId: end, eosTokenId: end, padTokenId: end, maxNewTokens: 6 },
  };
  const noCache: CaptionerSpec = { ...spec, files: { ...spec.files, decoderWithPast: undefined } };
  const images = [solid([10, 200, 30]), solid([128, 128, 128]), solid([250, 20, 20])];

  beforeAll(async () => {
    await writeBenchCaptioner(join(modelDir, 'vad-bench-captioner'), small);
  });

  it('runs the with-past layout (b) with its KV cache to the same tokens as feeding the whole sequence', async () => {
    const cached = await ImageCaptioner.load(modelDir, 'vad-bench-captioner', CPU, { spec });
    const plain = await ImageCaptioner.load(modelDir, 'vad-bench-captioner', CPU, { spec: noCache });
    try {
      expect(cached.layout).toBe('with-past');
      expect(plain.layout).toBe('no-cache');
      const withCache = await cached.caption(images, { batchSize: 2 });
      const without = await plain.caption(images, { batchSize: 3 });
      // Random weights: no end token, every caption runs to maxNewTokens.
      for (const caption of withCache) {
        expect(caption.tokenIds).toHaveLength(6);
        expect(caption.finished).toBe(false);
        expect(caption.text.split(' ')).toHaveLength(6);
      }
      expect(withCache.map((c) => c.tokenIds)).toEqual(without.map((c) => c.tokenIds));
      expect(withCache.map((c) => c.text)).toEqual(without.map((c) => c.text));
      // Beam search reorders the cache rows: still the same as without a cache.
      const beamCached = await cached.caption(images, { numBeams: 3, maxNewTokens: 4 });
      const beamPlain = await plain.caption(images, { numBeams: 3, maxNewTokens: 4 });
      expect(beamCached.map((c) => c.tokenIds)).toEqual(beamPlain.map((c) => c.tokenIds));
    } finally {
      await cached.close();
      await plain.close();
    }
  });
});
