import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildModel, buildTemporalHead, buildVitImageModel } from '@vad/models';
import { dot } from '@vad/scoring';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ClipTextEncoder,
  ClipTokenizer,
  createSession,
  getModelSpec,
  ImageBatcher,
  imageFileToRgb,
  imageIo,
  ModelFileSizeError,
  ModelNotInstalledError,
  modelInstallState,
  resolveModelPaths,
  rgbToNchw,
  TemporalHead,
} from '../src/index.js';
import { CLIP_TOKENIZER_SHA256, clipTokenizerFixture, sha256Of } from './fixtures/clip-tokenizer.js';

const FIXTURES = clipTokenizerFixture();
const modelDir = mkdtempSync(join(tmpdir(), 'vad-models-'));
const tiny = getModelSpec('vad-test-tiny');
const size = tiny.inputSize;

function solidFrames(colours: [number, number, number][]): Uint8Array {
  const frame = size * size * 3;
  const out = new Uint8Array(colours.length * frame);
  colours.forEach(([r, g, b], n) => {
    for (let p = 0; p < size * size; p++) out.set([r, g, b], n * frame + p * 3);
  });
  return out;
}

beforeAll(async () => {
  await buildModel('vad-test-tiny', modelDir);
});

describe('CLIP tokenizer (real CLIP ViT-B/32 tokenizer.json)', () => {
  it('is the published tokenizer.json, from the repository (never skipped)', () => {
    expect(sha256Of(join(FIXTURES, 'tokenizer.json'))).toBe(CLIP_TOKENIZER_SHA256);
  });

  it('matches the reference token ids, padded to 77 with the end token', async () => {
    const tokenizer = await ClipTokenizer.load(
      join(FIXTURES, 'tokenizer.json'),
      join(FIXTURES, 'tokenizer_config.json'),
    );
    expect(tokenizer.tokenize('a photo of a cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(tokenizer.tokenize('a surveillance video of RoadAccidents')).toEqual([
      49406, 320, 15578, 1455, 539, 4370, 22072, 49407,
    ]);
    expect(tokenizer.tokenize('Explosion!')).toEqual([49406, 13785, 256, 49407]);
    expect(tokenizer.tokenize('a CCTV frame showing shoplifting')).toEqual([
      49406, 320, 23097, 6481, 3649, 5738, 10857, 49407,
    ]);
    const { ids, mask } = tokenizer.encode(['Explosion!']);
    expect(ids[0]).toHaveLength(77);
    expect(ids[0]?.slice(0, 6)).toEqual([49406, 13785, 256, 49407, 49407, 49407]);
    expect(mask[0]?.slice(0, 6)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(mask[0]?.reduce((a, b) => a + b)).toBe(4);
  });

  it('truncates a long text to 77 tokens, keeping the end token', async () => {
    const tokenizer = await ClipTokenizer.load(
      join(FIXTURES, 'tokenizer.json'),
      join(FIXTURES, 'tokenizer_config.json'),
    );
    const { ids, mask } = tokenizer.encode([Array(120).fill('cat').join(' ')]);
    expect(ids[0]).toHaveLength(77);
    expect(ids[0]?.[0]).toBe(49406);
    expect(ids[0]?.[76]).toBe(49407);
    expect(ids[0]?.[75]).toBe(2368);
    expect(mask[0]?.every((m) => m === 1)).toBe(true);
  });
});

describe('preprocessing', () => {
  it('normalises RGB HWC bytes into NCHW float32 with the model mean and std', () => {
    // One 2×2 frame: pixels (255,0,128), (0,0,0), (10,20,30), (255,255,255).
    const rgb = new Uint8Array([255, 0, 128, 0, 0, 0, 10, 20, 30, 255, 255, 255]);
    const mean: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
    const std: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
    const out = rgbToNchw(rgb, 1, 2, mean, std);
    const expected = (value: number, c: number) => (value / 255 - mean[c]!) / std[c]!;
    // Channel planes: R of the 4 pixels, then G, then B.
    const want = [255, 0, 10, 255]
      .map((v) => expected(v, 0))
      .concat([0, 0, 20, 255].map((v) => expected(v, 1)))
      .concat([128, 0, 30, 255].map((v) => expected(v, 2)));
    expect(Array.from(out)).toEqual(want.map((v) => expect.closeTo(v, 5)));
    expect(out[0]).toBeCloseTo(1.9303, 3); // (1 − 0.48145) / 0.26863
  });

  it('rejects bytes that do not make whole frames', () => {
    expect(() => rgbToNchw(new Uint8Array(11), 1, 2, [0, 0, 0], [1, 1, 1])).toThrow(/expected 1 frames of 2x2 RGB/);
  });

  it('resizes an image file on its shortest side and centre-crops it (sharp)', async () => {
    // 300×100: left 100 px blue, middle 100 px red, right 100 px green → the centre crop is all red.
    const width = 300;
    const raw = Buffer.alloc(width * 100 * 3);
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < width; x++)
        raw.set(x < 100 ? [0, 0, 255] : x < 200 ? [255, 0, 0] : [0, 255, 0], (y * width + x) * 3);
    }
    const path = join(modelDir, 'bands.png');
    await sharp(raw, { raw: { width, height: 100, channels: 3 } })
      .png()
      .toFile(path);
    const rgb = await imageFileToRgb(path, 32);
    expect(rgb.length).toBe(32 * 32 * 3);
    for (let p = 2; p < 30; p++) expect([rgb[(16 * 32 + p) * 3], rgb[(16 * 32 + p) * 3 + 2]]).toEqual([255, 0]);
  });
});

describe('sessions and adapters', () => {
  it('auto falls back to the CPU with the reason when CUDA does not load', async () => {
    const reasons: string[] = [];
    const { provider } = await createSession(join(modelDir, 'vad-test-tiny/onnx/vision_model.onnx'), {
      provider: 'auto',
      threads: 1,
      graphOptimization: 'all',
      onFallback: (reason) => reasons.push(reason),
    });
    if (provider === 'cpu') expect(reasons[0]).toMatch(/./);
    else expect(provider).toBe('cuda'); // a machine with a working CUDA install
  });

  it('cuda, when it cannot load, fails with what to do', async () => {
    const attempt = createSession(join(modelDir, 'vad-test-tiny/onnx/vision_model.onnx'), {
      provider: 'cuda',
      threads: 1,
      graphOptimization: 'all',
    });
    await attempt.then(
      ({ provider }) => expect(provider).toBe('cuda'),
      (error: Error) => expect(error.message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12.*VAD_EXECUTION_PROVIDER=cpu/),
    );
  });

  it('maps Immich-style tensor names (image → embedding) and reads the embedding size from the session', async () => {
    const path = join(modelDir, 'small-vit.onnx');
    const { bytes } = buildVitImageModel(
      { imageSize: 64, patchSize: 32, width: 64, layers: 1, heads: 2, outputSize: 16 },
      32,
      { input: 'float32' }, // as Immich exports it
    );
    await import('node:fs/promises').then((fs) => fs.writeFile(path, bytes));
    const session = await ort.InferenceSession.create(path);
    expect(imageIo(session)).toEqual({
      input: 'image',
      output: 'embedding',
      embeddingSize: 16,
      format: 'float32-nchw',
    });
    // vad's own models take the frames' bytes: the manifest's pixel_values is not there, pixels_uint8 is found.
    const tinySession = await ort.InferenceSession.create(join(modelDir, 'vad-test-tiny/onnx/vision_model.onnx'));
    expect(imageIo(tinySession, tiny.tensors.image)).toEqual({
      input: 'pixels_uint8',
      output: 'image_embeds',
      embeddingSize: 8,
      format: 'uint8-nhwc',
    });
  });

  it('a missing model names the command that installs it', () => {
    const attempt = () =>
      resolveModelPaths(modelDir, 'clip-vit-base-patch32', getModelSpec('clip-vit-base-patch32'), ['image']);
    expect(attempt).toThrow(ModelNotInstalledError);
    expect(attempt).toThrow(
      /model "clip-vit-base-patch32" is not installed .*fetch it with: vad models fetch clip-vit-base-patch32/,
    );
    expect(() => resolveModelPaths(join(modelDir, 'none'), 'vad-test-tiny', tiny, ['image'])).toThrow(
      /build it with: npm run models:build -- vad-test-tiny/,
    );
  });

  it('a file of the wrong size is refused at load (stat only), with both sizes and the command that repairs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-size-'));
    const clip = getModelSpec('clip-vit-base-patch32');
    const vision = join(dir, 'clip-vit-base-patch32/onnx/vision_model.onnx');
    mkdirSync(dirname(vision), { recursive: true });
    writeFileSync(vision, Buffer.alloc(1234)); // e.g. a download copied before it finished
    const load = () => resolveModelPaths(dir, 'clip-vit-base-patch32', clip, ['image']);
    expect(load).toThrow(ModelFileSizeError);
    expect(load).toThrow(ModelNotInstalledError);
    expect(load).toThrow(
      `model "clip-vit-base-patch32": ${vision} is 1234 bytes, expected 351685709 (an interrupted download or copy, or another file); run vad models fetch clip-vit-base-patch32 to resume or download it again, then vad models verify clip-vit-base-patch32`,
    );
    const state = await modelInstallState('clip-vit-base-patch32', clip, dir);
    expect(state.state).toBe('wrong-size');
    expect(state.wrongSize).toEqual([{ path: 'onnx/vision_model.onnx', bytes: 1234, expectedBytes: 351685709 }]);
  });
});

describe('tiny model semantics and the image batcher', () => {
  let batcher: ImageBatcher;
  let text: ClipTextEncoder;

  beforeAll(async () => {
    const paths = resolveModelPaths(modelDir, 'vad-test-tiny', tiny, ['image', 'text']);
    batcher = await ImageBatcher.start({
      modelPath: paths.image,
      provider: 'cpu',
      threads: 1,
      graphOptimization: 'all',
      inputSize: size,
      mean: tiny.mean,
      std: tiny.std,
      names: tiny.tensors.image,
      embeddingSize: tiny.embeddingSize,
      batchSize: 16,
      maxWaitMs: 20,
    });
    text = await ClipTextEncoder.load(paths, tiny, { provider: 'cpu', threads: 1, graphOptimization: 'all' });
    return async () => {
      await batcher.close();
      await text.close();
    };
  });

  it('embeds prompts so that fire is nearest a red scene and normal nearest a grey one', async () => {
    const [fire, normal] = await text.encode(['a photo of fire', 'normal activity']);
    const [red, grey] = await batcher.embed(
      solidFrames([
        [255, 110, 0],
        [128, 128, 128],
      ]),
      2,
    );
    expect(dot(red!, fire!)).toBeGreaterThan(0.9);
    expect(dot(grey!, normal!)).toBeGreaterThan(0.9);
    expect(dot(red!, normal!)).toBeLessThan(0.5);
    expect(Math.hypot(...red!)).toBeCloseTo(1, 5);
  });

  it('merges many concurrent jobs into batches, each job getting its own frames back', async () => {
    const before = batcher.stats.batches;
    const jobs = Array.from({ length: 12 }, (_, j) => {
      const colour: [number, number, number] = j % 2 ? [255, 110, 0] : [128, 128, 128];
      const frames = 3 + (j % 5); // 3..7 frames: partial batches must be flushed by the timer
      return batcher.embed(solidFrames(Array(frames).fill(colour)), frames).then((e) => ({ j, e, frames }));
    });
    const [fire, normal] = await text.encode(['fire', 'normal']);
    for (const { j, e, frames } of await Promise.all(jobs)) {
      expect(e).toHaveLength(frames);
      for (const v of e) expect(dot(v, j % 2 ? fire! : normal!)).toBeGreaterThan(0.9);
    }
    const sizes = batcher.stats.recentBatchSizes.slice(before - batcher.stats.batches);
    const total = 12 * 3 + [0, 1, 2, 3, 4].reduce((s, k) => s + k * (k < 2 ? 3 : 2), 0);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(sizes.length).toBeLessThan(12); // jobs were merged, not run one by one
  });

  it('fails a job with bad input alone; the jobs beside it succeed', async () => {
    const good = batcher.embed(solidFrames([[128, 128, 128]]), 1);
    const bad = batcher.embed(new Uint8Array(100), 1);
    const alsoGood = batcher.embed(
      solidFrames([
        [255, 110, 0],
        [255, 110, 0],
      ]),
      2,
    );
    await expect(bad).rejects.toThrow(/expected 1 frames of 224x224 RGB/);
    expect(await good).toHaveLength(1);
    expect(await alsoGood).toHaveLength(2);
  });
});

describe('temporal head (onnx aggregator)', () => {
  it('pools a clip into one feature and never looks at padding', async () => {
    const path = join(modelDir, 'head.onnx');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, buildTemporalHead(3)));
    const head = await TemporalHead.load(path, { provider: 'cpu', threads: 1, graphOptimization: 'all' });
    const calm = new Float32Array([1, 0, 0]);
    const fire = new Float32Array([0, 1, 0]);
    const [padded, full] = await head.encode(
      [
        [calm, calm, calm, fire],
        [calm, calm, calm, fire],
      ],
      [3, 4],
    );
    expect(Array.from(padded!)).toEqual([1, 0, 0]);
    expect(full![1]).toBeCloseTo(1 / Math.sqrt(10), 5); // mean of 3 calm + 1 fire, normalised
    await head.close();
  });
});
