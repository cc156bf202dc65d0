import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, buildTinyImageModel, buildVitImageModel } from '@vad/models';
import { dot } from '@vad/scoring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddModelError,
  addModel,
  ClipTextEncoder,
  describeFileCheck,
  getModelSpec,
  ImageBatcher,
  InvalidModelSpecError,
  LOCAL_SPEC_FILE,
  listLocalModels,
  ModelCapabilityError,
  ModelFileSizeError,
  ModelNotInstalledError,
  type ModelSpec,
  modelInstallState,
  modelSpecSchema,
  readPreprocessing,
  resolveModelPaths,
  resolveModelSpec,
  UnknownModelError,
  verifyModel,
} from '../src/index.js';

const sessionOptions = { provider: 'cpu', threads: 1, graphOptimization: 'all' } as const;
const work = mkdtempSync(join(tmpdir(), 'vad-add-'));
/**
 * Where the user's export lies (here: vad's tiny test model, built, its image
 * encoder taking float32 NCHW pixels as a PyTorch export does).
 */
const exportDir = join(work, 'export');
const tinyDir = join(exportDir, 'vad-test-tiny');
const image = join(tinyDir, 'onnx/vision_model.onnx');
const text = join(tinyDir, 'onnx/text_model.onnx');
let modelDir: string;
let n = 0;
const freshModelDir = () => join(work, `models-${++n}`);

beforeAll(async () => {
  await buildModel('vad-test-tiny', exportDir);
  writeFileSync(image, buildTinyImageModel({ input: 'float32' }));
  modelDir = freshModelDir();
});

function solidFrames(size: number, colours: [number, number, number][]): Uint8Array {
  const frame = size * size * 3;
  const out = new Uint8Array(colours.length * frame);
  colours.forEach(([r, g, b], i) => {
    for (let p = 0; p < size * size; p++) out.set([r, g, b], i * frame + p * 3);
  });
  return out;
}

describe('vad models add: a model of your own, end to end', () => {
  let spec: ModelSpec;

  it('copies the files, reads names and sizes from the ONNX files, records sizes and sha256 in vad-model.json', async () => {
    const added = await addModel({ name: 'my-model', modelDir, image, text, tokenizer: tinyDir, logitScale: 50 });
    const folder = join(modelDir, 'my-model');
    expect(added.folder).toBe(folder);
    expect(added.image).toEqual({
      input: 'pixel_values',
      output: 'image_embeds',
      embeddingSize: 8,
      format: 'float32-nchw',
    });
    // Its preprocessing is folded into a second file beside it, which is not part of the spec.
    expect(added.fold).toMatchObject({ status: 'folded', path: join(folder, 'onnx/vision_model.vad-folded.onnx') });
    expect(added.fold.difference).toBeLessThan(1e-5);
    expect(existsSync(added.fold.path)).toBe(true);
    expect(added.text).toMatchObject({
      ids: 'input_ids',
      idsType: 'int64',
      mask: { name: 'attention_mask', type: 'int64' },
      output: 'text_embeds',
      embeddingSize: 8,
      contextLength: 77,
    });
    expect(lstatSync(join(folder, 'onnx/vision_model.onnx')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(folder, 'onnx/vision_model.onnx')).equals(readFileSync(image))).toBe(true);

    const written = JSON.parse(readFileSync(join(folder, LOCAL_SPEC_FILE), 'utf8'));
    spec = modelSpecSchema.parse(written);
    expect(spec).toEqual(added.spec);
    const tiny = getModelSpec('vad-test-tiny');
    expect(spec).toMatchObject({
      synthetic: false,
      source: { type: 'local', addedFrom: { image, text, tokenizer: tinyDir }, linked: false },
      inputSize: 224,
      mean: tiny.mean,
      std: tiny.std,
      embeddingSize: 8,
      contextLength: 77,
      logitScale: 50,
      tensors: tiny.tensors,
    });
    expect(spec.description).not.toMatch(/clip/i);
    for (const role of ['image', 'text', 'tokenizer', 'tokenizerConfig'] as const) {
      const file = spec.files[role];
      expect(file?.bytes).toBe(readFileSync(join(folder, file?.path ?? '')).length);
      expect(file?.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(added.files.map((f) => f.role)).toEqual(['image', 'text', 'tokenizer', 'tokenizerConfig']);
    // Nothing of the staging folder is left behind.
    expect(listLocalModels(modelDir).map((m) => m.name)).toEqual(['my-model']);
  });

  it('resolveModelSpec finds it after the manifest; getModelSpec stays manifest-only', () => {
    expect(resolveModelSpec('my-model', modelDir)).toEqual(spec);
    expect(resolveModelSpec('vad-test-tiny', modelDir)).toBe(getModelSpec('vad-test-tiny'));
    expect(() => getModelSpec('my-model')).toThrow(UnknownModelError);
  });

  it('an unknown name lists the manifest models and the added ones', () => {
    expect(() => resolveModelSpec('nope', modelDir)).toThrow(UnknownModelError);
    expect(() => resolveModelSpec('nope', modelDir)).toThrow(
      new RegExp(
        `unknown model "nope": models/manifest.json lists clip-vit-base-patch32, .*vad-test-tiny.*; added with vad models add in ${modelDir}: my-model$`,
      ),
    );
    expect(() => resolveModelSpec('../my-model', modelDir)).toThrow(UnknownModelError);
    expect(() => resolveModelSpec('constructor', modelDir)).toThrow(UnknownModelError);
    expect(() => resolveModelSpec('nope', join(work, 'absent'))).toThrow(/none added with vad models add in /);
  });

  it('loads through resolveModelPaths into the image batcher and the text encoder, which agree', async () => {
    const paths = resolveModelPaths(modelDir, 'my-model', spec, ['image', 'text']);
    const batcher = await ImageBatcher.start({
      modelPath: paths.image,
      provider: 'cpu',
      threads: 1,
      graphOptimization: 'all',
      inputSize: spec.inputSize,
      mean: spec.mean,
      std: spec.std,
      names: spec.tensors.image,
      embeddingSize: spec.embeddingSize,
      batchSize: 8,
      maxWaitMs: 5,
    });
    const encoder = await ClipTextEncoder.load(paths, spec, sessionOptions);
    try {
      // The worker loads the folded file: frames go in as bytes.
      expect(batcher.loaded).toMatchObject({
        kind: 'folded',
        path: join(modelDir, 'my-model/onnx/vision_model.vad-folded.onnx'),
      });
      expect(batcher.preprocessing).toBe('graph');
      expect(batcher.notice).toBeUndefined();
      const [fire, normal] = await encoder.encode(['a photo of fire', 'normal activity']);
      const [red, grey] = await batcher.embed(
        solidFrames(spec.inputSize, [
          [255, 110, 0],
          [128, 128, 128],
        ]),
        2,
      );
      expect(dot(red!, fire!)).toBeGreaterThan(0.9);
      expect(dot(grey!, normal!)).toBeGreaterThan(0.9);
    } finally {
      await batcher.close();
      await encoder.close();
    }
  });

  it('verify reports every file ok, against the recorded sizes and hashes', async () => {
    const result = await verifyModel('my-model', spec, modelDir);
    expect(result.ok).toBe(true);
    expect(result.files.map((f) => [f.path, f.status])).toEqual([
      ['onnx/vision_model.onnx', 'ok'],
      ['onnx/text_model.onnx', 'ok'],
      ['tokenizer.json', 'ok'],
      ['tokenizer_config.json', 'ok'],
    ]);
    expect(describeFileCheck(result.files[0]!)).toBe(`ok (${spec.files.image.bytes} bytes, size and sha256 match)`);
    expect((await modelInstallState('my-model', spec, modelDir)).state).toBe('installed');
  });

  it('a truncated file is refused at load with both sizes and the fix, is not "installed", and fails verify', async () => {
    const modelPath = join(modelDir, 'my-model/onnx/text_model.onnx');
    const expected = spec.files.text?.bytes ?? 0;
    truncateSync(modelPath, 1000);

    const load = () => resolveModelPaths(modelDir, 'my-model', spec, ['text']);
    expect(load).toThrow(ModelFileSizeError);
    expect(load).toThrow(ModelNotInstalledError); // so the embed worker stops as for a missing model
    expect(load).toThrow(
      `model "my-model": ${modelPath} is 1000 bytes, expected ${expected} (an interrupted download or copy, or another file); add it again with: vad models add my-model --force --image ${image} --text ${text} --tokenizer ${tinyDir}`,
    );
    // The image encoder alone is intact and still loads.
    expect(resolveModelPaths(modelDir, 'my-model', spec, ['image']).image).toContain('vision_model.onnx');

    const state = await modelInstallState('my-model', spec, modelDir);
    expect(state.state).toBe('wrong-size');
    expect(state.wrongSize).toEqual([{ path: 'onnx/text_model.onnx', bytes: 1000, expectedBytes: expected }]);

    const result = await verifyModel('my-model', spec, modelDir);
    expect(result.ok).toBe(false);
    const textCheck = result.files.find((f) => f.path === 'onnx/text_model.onnx');
    expect(textCheck?.status).toBe('wrong-size');
    expect(describeFileCheck(textCheck!)).toBe(`wrong size: expected ${expected} bytes, found 1000`);
  });

  it('verify sees a same-size change (hash mismatch) and a missing file', async () => {
    const tokenizerPath = join(modelDir, 'my-model/tokenizer_config.json');
    const original = readFileSync(tokenizerPath);
    const changed = Buffer.from(original);
    changed[changed.length - 2] = changed[changed.length - 2] === 0x20 ? 0x0a : 0x20;
    writeFileSync(tokenizerPath, changed);
    const result = await verifyModel('my-model', spec, modelDir);
    const check = result.files.find((f) => f.path === 'tokenizer_config.json');
    expect(check?.status).toBe('hash-mismatch');
    expect(describeFileCheck(check!)).toMatch(
      new RegExp(`^hash mismatch: expected sha256 ${spec.files.tokenizerConfig?.sha256}, found [0-9a-f]{64}$`),
    );
    writeFileSync(tokenizerPath, original);

    const imagePath = join(modelDir, 'my-model/onnx/vision_model.onnx');
    const saved = readFileSync(imagePath);
    await import('node:fs/promises').then((fs) => fs.rm(imagePath));
    const missing = await verifyModel('my-model', spec, modelDir);
    expect(missing.files[0]).toMatchObject({ path: 'onnx/vision_model.onnx', status: 'missing' });
    expect(describeFileCheck(missing.files[0]!)).toBe('missing');
    expect(() => resolveModelPaths(modelDir, 'my-model', spec, ['image'])).toThrow(
      /is not installed .*add it again with/,
    );
    writeFileSync(imagePath, saved);
  });

  it('refuses to replace an added model without --force, and replaces it with --force', async () => {
    await expect(addModel({ name: 'my-model', modelDir, image, text, tokenizer: tinyDir })).rejects.toThrow(
      `model "my-model" was already added from ${image}; use --force to replace it`,
    );
    const replaced = await addModel({ name: 'my-model', modelDir, image, text, tokenizer: tinyDir, force: true });
    expect(replaced.spec.logitScale).toBe(100);
    expect((await verifyModel('my-model', replaced.spec, modelDir)).ok).toBe(true);
  });
});

describe('vad models add: variants', () => {
  it('links instead of copying with --link, and verify notices when the linked file changes', async () => {
    const dir = freshModelDir();
    const source = join(work, 'linked-export');
    cpSync(tinyDir, source, { recursive: true });
    const added = await addModel({
      name: 'linked',
      modelDir: dir,
      image: join(source, 'onnx/vision_model.onnx'),
      text: join(source, 'onnx/text_model.onnx'),
      tokenizer: join(source, 'tokenizer.json'),
      link: true,
    });
    expect(added.spec.source).toMatchObject({ type: 'local', linked: true });
    expect(lstatSync(join(dir, 'linked/onnx/vision_model.onnx')).isSymbolicLink()).toBe(true);
    expect((await verifyModel('linked', added.spec, dir)).ok).toBe(true);
    truncateSync(join(source, 'onnx/vision_model.onnx'), 10);
    expect(() => resolveModelPaths(dir, 'linked', added.spec, ['image'])).toThrow(
      /is 10 bytes, expected \d+ .*the linked file changed since it was added/,
    );
  });

  it('adds an image-only model that embeds frames but cannot score prompts', async () => {
    const dir = freshModelDir();
    const vit = join(work, 'small-vit.onnx');
    const options = { imageSize: 64, patchSize: 32, width: 64, layers: 1, heads: 2, outputSize: 16 };
    writeFileSync(vit, buildVitImageModel(options, 32, { input: 'float32' }).bytes);
    const added = await addModel({
      name: 'image-only',
      modelDir: dir,
      image: vit,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    expect(added.image).toEqual({ input: 'image', output: 'embedding', embeddingSize: 16, format: 'float32-nchw' });
    expect(added.spec).toMatchObject({ inputSize: 64, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], embeddingSize: 16 });
    // Folded with the given mean and std, for 64×64 frames.
    expect(added.fold.status).toBe('folded');
    expect(await readPreprocessing(added.fold.path)).toMatchObject({
      size: 64,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
    expect(added.spec.files.text).toBeUndefined();
    expect(added.spec.tensors.text).toBeUndefined();
    const spec = resolveModelSpec('image-only', dir);
    expect(resolveModelPaths(dir, 'image-only', spec, ['image']).image).toBe(
      join(dir, 'image-only/onnx/vision_model.onnx'),
    );
    expect(() => resolveModelPaths(dir, 'image-only', spec, ['text'])).toThrow(ModelCapabilityError);
    expect(() => resolveModelPaths(dir, 'image-only', spec, ['text'])).toThrow(
      /has no text encoder: it cannot score prompts/,
    );
    // The export's fixed 64×64 input wins over CLIP's default; a different --input-size is refused.
    await expect(addModel({ name: 'image-only-2', modelDir: dir, image: vit, inputSize: 224 })).rejects.toThrow(
      /--input-size 224 differs from the export's fixed 64/,
    );
  });

  it('adds a model that takes uint8 frames itself (folded before): mean and std from its metadata, nothing to fold', async () => {
    const dir = freshModelDir();
    const native = join(work, 'native-uint8.onnx');
    writeFileSync(native, buildTinyImageModel()); // vad's own build: preprocessing in the graph
    const added = await addModel({ name: 'native', modelDir: dir, image: native });
    expect(added.image).toMatchObject({ input: 'pixels_uint8', format: 'uint8-nhwc' });
    expect(added.fold).toEqual({ status: 'native', path: join(dir, 'native/onnx/vision_model.onnx') });
    expect(added.spec).toMatchObject({
      mean: getModelSpec('vad-test-tiny').mean,
      std: getModelSpec('vad-test-tiny').std,
    });
    expect(existsSync(join(dir, 'native/onnx/vision_model.vad-folded.onnx'))).toBe(false);
    await expect(addModel({ name: 'native-2', modelDir: dir, image: native, mean: [0.5, 0.5, 0.5] })).rejects.toThrow(
      /its graph normalises frames itself with mean 0\.48145466,0\.4578275,0\.40821073 \(metadata vad\.preprocessing\); --mean 0\.5,0\.5,0\.5 differs/,
    );
  });

  it('refuses a manifest name, a bad name, files that are not ONNX, and a text encoder without tokenizer', async () => {
    const dir = freshModelDir();
    const refuse = (options: Partial<Parameters<typeof addModel>[0]>) =>
      addModel({ name: 'ok-name', modelDir: dir, image, ...options });
    await expect(refuse({ name: 'clip-vit-base-patch32' })).rejects.toThrow(
      '"clip-vit-base-patch32" is a model of models/manifest.json; choose another name for your model',
    );
    await expect(refuse({ name: 'vad-test-tiny' })).rejects.toThrow(AddModelError);
    for (const bad of ['../escape', 'a/b', '.hidden', 'with space', '', 'x'.repeat(101)]) {
      await expect(refuse({ name: bad })).rejects.toThrow(/invalid model name/);
    }
    const notOnnx = join(work, 'notes.onnx');
    writeFileSync(notOnnx, 'this is not a model\n');
    await expect(refuse({ image: notOnnx })).rejects.toThrow(
      new RegExp(`^${notOnnx} is not a valid ONNX image encoder: .*Protobuf parsing failed`),
    );
    await expect(refuse({ text: notOnnx, tokenizer: tinyDir })).rejects.toThrow(
      new RegExp(`^${notOnnx} is not a valid ONNX text encoder`),
    );
    await expect(refuse({ image: join(work, 'absent.onnx') })).rejects.toThrow(
      /image encoder .*absent\.onnx does not exist/,
    );
    await expect(refuse({ text })).rejects.toThrow(/--text needs --tokenizer/);
    const empty = join(work, 'empty-dir');
    mkdirSync(empty, { recursive: true });
    await expect(refuse({ text, tokenizer: empty })).rejects.toThrow(/has no tokenizer\.json/);
    // The text encoder in place of the image encoder: wrong shape.
    await expect(refuse({ image: text })).rejects.toThrow(
      `${text}: image input input_ids has 2 dimensions, expected NCHW`,
    );
    // Refusals leave nothing behind: no model, no staging folder.
    expect(existsSync(join(dir, 'ok-name'))).toBe(false);
    expect(listLocalModels(dir)).toEqual([]);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder of the same name that is not an added model, and reports an invalid vad-model.json', async () => {
    const dir = freshModelDir();
    mkdirSync(join(dir, 'taken'), { recursive: true });
    await expect(addModel({ name: 'taken', modelDir: dir, image, force: true })).rejects.toThrow(
      /already exists and is not a model added with vad models add/,
    );
    mkdirSync(join(dir, 'broken'), { recursive: true });
    writeFileSync(join(dir, 'broken', LOCAL_SPEC_FILE), '{"description": 1}');
    expect(() => resolveModelSpec('broken', dir)).toThrow(InvalidModelSpecError);
    expect(() => resolveModelSpec('broken', dir)).toThrow(/vad-model\.json is not a valid model spec: /);
    expect(listLocalModels(dir)).toEqual([{ name: 'broken', error: expect.stringMatching(/not a valid model spec/) }]);
  });
});

afterAll(async () => {
  await import('node:fs/promises').then((fs) => fs.rm(work, { recursive: true, force: true }));
});
