import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { sha256File } from '@vad/storage';
import * as ort from 'onnxruntime-node';
import { readPreprocessing } from './fold-preprocessing.js';
import { type ImageIo, imageIo, type TextIo, textIo } from './io-adapter.js';
import {
  CLIP_INPUT_SIZE,
  CLIP_MEAN,
  CLIP_STD,
  LOCAL_SPEC_FILE,
  loadManifest,
  type ModelManifest,
  type ModelSpec,
  modelSpecSchema,
  readLocalModelSpec,
} from './manifest.js';
import { ensureFolded, type FoldOutcome } from './model-fold.js';
import { ClipTokenizer } from './tokenizer.js';

/** Names `vad models add` accepts: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 100 characters. */
export const ADDED_MODEL_NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;

/** Where the files of an added model go inside its folder: the same layout as a downloaded one. */
export const ADDED_LAYOUT = {
  image: 'onnx/vision_model.onnx',
  text: 'onnx/text_model.onnx',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

export interface AddModelOptions {
  name: string;
  /** VAD_MODEL_DIR: the model goes into `<modelDir>/<name>/`. */
  modelDir: string;
  /** ONNX image encoder: NCHW float32 pixels (or uint8 NHWC RGB bytes) in, one embedding per image out. */
  image: string;
  /** ONNX text encoder: token ids (and optionally an attention mask) in, one embedding per text out. */
  text?: string | undefined;
  /** Folder with the model's tokenizer.json (and tokenizer_config.json), or tokenizer.json itself. */
  tokenizer?: string | undefined;
  /** Default: the image input's fixed side when the export has one, else 224. */
  inputSize?: number | undefined;
  mean?: [number, number, number] | undefined;
  std?: [number, number, number] | undefined;
  logitScale?: number | undefined;
  /** Default: the text input's fixed length when the export has one, else 77. */
  contextLength?: number | undefined;
  description?: string | undefined;
  /** Symbolic links to the files instead of copies. */
  link?: boolean | undefined;
  /** Replace a model added before under the same name. */
  force?: boolean | undefined;
  manifest?: ModelManifest | undefined;
  /** Relative paths are resolved against it (default: the process's). */
  cwd?: string | undefined;
}

export interface AddedFile {
  role: 'image' | 'text' | 'tokenizer' | 'tokenizerConfig';
  /** Path inside the model's folder. */
  path: string;
  source: string;
  bytes: number;
  sha256: string;
}

export interface AddedModel {
  name: string;
  folder: string;
  spec: ModelSpec;
  files: AddedFile[];
  image: ImageIo;
  text?: (TextIo & { contextLength: number }) | undefined;
  /**
   * The image encoder's preprocessing folded into a second file beside it
   * (`onnx/vision_model.vad-folded.onnx`, which the embed worker loads), or
   * `native` for an export that takes uint8 frames itself, or why it failed.
   */
  fold: FoldOutcome;
}

/** Why `vad models add` refused: a message for the person who ran it. */
export class AddModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddModelError';
  }
}

type TensorMeta = { name: string; type: string; shape: readonly (number | string)[] };

function tensorMeta(list: readonly ort.InferenceSession.ValueMetadata[], name: string): TensorMeta | undefined {
  const meta = list.find((m) => m.name === name);
  return meta?.isTensor ? { name: meta.name, type: meta.type, shape: meta.shape } : undefined;
}

const fixed = (dim: number | string | undefined) => (typeof dim === 'number' && dim > 0 ? dim : undefined);
const shapeText = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

async function openOnnx(path: string, source: string, role: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'basic' });
  } catch (error) {
    const reason = (error as Error).message.replace(/^Load model from \S+ failed:\s*/, '');
    const externalData = /external|\.data\b/i.test(reason)
      ? ' (its weights are in separate external-data files: export the model as a single .onnx file)'
      : '';
    throw new AddModelError(`${source} is not a valid ONNX ${role} encoder: ${reason}${externalData}`);
  }
}

/** The I/O adapter of a session, or an AddModelError naming the file when its tensors do not fit. */
function adapted<T>(source: string, adapt: () => T): T {
  try {
    return adapt();
  } catch (error) {
    throw new AddModelError(`${source}: ${(error as Error).message}`);
  }
}

async function inspectImage(path: string, source: string, requestedSize: number | undefined) {
  const session = await openOnnx(path, source, 'image');
  try {
    const io: ImageIo = adapted(source, () => imageIo(session));
    const input = tensorMeta(session.inputMetadata, io.input);
    const shape = input?.shape ?? [];
    const batch = fixed(shape[0]);
    if (batch !== undefined) {
      throw new AddModelError(
        `${source}: the image input ${io.input} has a fixed batch size of ${batch} (shape ${shapeText(shape)}); export it with a dynamic batch axis`,
      );
    }
    // float32 [batch, 3, H, W], or uint8 [batch, H, W, 3] for a model that normalises frames itself.
    const nhwc = io.format === 'uint8-nhwc';
    const channels = fixed(shape[nhwc ? 3 : 1]);
    if (channels !== undefined && channels !== 3) {
      throw new AddModelError(
        `${source}: the image input ${io.input} has shape ${shapeText(shape)}, expected [batch, 3, H, W]`,
      );
    }
    const [height, width] = nhwc ? [fixed(shape[1]), fixed(shape[2])] : [fixed(shape[2]), fixed(shape[3])];
    if (height !== undefined && width !== undefined && height !== width) {
      throw new AddModelError(`${source}: the image input is ${height}×${width}; vad feeds square frames`);
    }
    const exportSize = height ?? width;
    if (requestedSize !== undefined && exportSize !== undefined && requestedSize !== exportSize) {
      throw new AddModelError(`${source}: --input-size ${requestedSize} differs from the export's fixed ${exportSize}`);
    }
    const inputSize = requestedSize ?? exportSize ?? CLIP_INPUT_SIZE;
    // A run of two blank frames: the model works, takes a batch, and says how wide its embeddings are.
    let dims: readonly number[];
    try {
      const pixels = nhwc
        ? new ort.Tensor('uint8', new Uint8Array(2 * 3 * inputSize * inputSize), [2, inputSize, inputSize, 3])
        : new ort.Tensor('float32', new Float32Array(2 * 3 * inputSize * inputSize), [2, 3, inputSize, inputSize]);
      const result = await session.run({ [io.input]: pixels }, [io.output]);
      dims = result[io.output]?.dims ?? [];
    } catch (error) {
      throw new AddModelError(
        `${source}: a test run on 2 frames of ${inputSize}×${inputSize} failed: ${(error as Error).message}`,
      );
    }
    const size = dims.at(-1);
    if (dims.length !== 2 || dims[0] !== 2 || !size) {
      throw new AddModelError(
        `${source}: the image output ${io.output} has shape ${shapeText(dims)} for 2 frames, expected [2, embedding size] (export the pooled, projected image features)`,
      );
    }
    return { io: { ...io, embeddingSize: size }, inputSize };
  } finally {
    await session.release();
  }
}

async function inspectText(
  path: string,
  source: string,
  tokenizer: { path: string; config: string | undefined; source: string },
  requestedLength: number | undefined,
) {
  const session = await openOnnx(path, source, 'text');
  try {
    const io: TextIo = adapted(source, () => textIo(session));
    const ids = tensorMeta(session.inputMetadata, io.ids);
    if (ids && ids.type !== 'int32' && ids.type !== 'int64') {
      throw new AddModelError(`${source}: the text input ${io.ids} is ${ids.type}, expected int64 or int32 token ids`);
    }
    const others = session.inputNames.filter((n) => n !== io.ids && n !== io.mask?.name);
    if (others.length) {
      throw new AddModelError(
        `${source}: the text encoder wants inputs vad does not give (${others.join(', ')}); it gives ${io.ids}${io.mask ? ` and ${io.mask.name}` : ''}`,
      );
    }
    const exportLength = fixed(ids?.shape[1]);
    if (requestedLength !== undefined && exportLength !== undefined && requestedLength !== exportLength) {
      throw new AddModelError(
        `${source}: context length ${requestedLength} differs from the export's fixed ${exportLength}`,
      );
    }
    const contextLength = requestedLength ?? exportLength ?? 77;
    let clipTokenizer: ClipTokenizer;
    try {
      clipTokenizer = await ClipTokenizer.load(tokenizer.path, tokenizer.config, contextLength);
    } catch (error) {
      throw new AddModelError(`${tokenizer.source}: not a usable tokenizer.json: ${(error as Error).message}`);
    }
    const batch = clipTokenizer.encode(['a photo of a street', 'an empty room']);
    const tensor = (type: 'int32' | 'int64', rows: number[][]) =>
      new ort.Tensor(
        type,
        type === 'int64' ? BigInt64Array.from(rows.flat(), (v) => BigInt(v)) : Int32Array.from(rows.flat()),
        [rows.length, contextLength],
      );
    let dims: readonly number[];
    try {
      const feeds: Record<string, ort.Tensor> = { [io.ids]: tensor(io.idsType, batch.ids) };
      if (io.mask) feeds[io.mask.name] = tensor(io.mask.type, batch.mask);
      const result = await session.run(feeds, [io.output]);
      dims = result[io.output]?.dims ?? [];
    } catch (error) {
      throw new AddModelError(
        `${source}: a test run on 2 texts of ${contextLength} tokens failed: ${(error as Error).message}`,
      );
    }
    const size = dims.at(-1);
    if (dims.length !== 2 || dims[0] !== 2 || !size) {
      throw new AddModelError(
        `${source}: the text output ${io.output} has shape ${shapeText(dims)} for 2 texts, expected [2, embedding size] (export the pooled, projected text features)`,
      );
    }
    return { io: { ...io, embeddingSize: size, contextLength } };
  } finally {
    await session.release();
  }
}

function existingFile(path: string, what: string): string {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch {
    throw new AddModelError(`${what} ${path} does not exist`);
  }
  if (!info.isFile()) throw new AddModelError(`${what} ${path} is not a file`);
  return path;
}

function tokenizerFiles(path: string): { path: string; config: string | undefined } {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch {
    throw new AddModelError(`tokenizer ${path} does not exist`);
  }
  const folder = info.isDirectory() ? path : dirname(path);
  const json = info.isDirectory() ? join(path, 'tokenizer.json') : path;
  if (!existsSync(json)) {
    throw new AddModelError(
      `${path} has no tokenizer.json (save the tokenizer with CLIPTokenizerFast.save_pretrained to get one)`,
    );
  }
  const config = join(folder, 'tokenizer_config.json');
  return { path: json, config: existsSync(config) ? config : undefined };
}

/**
 * Registers a user's own CLIP-style ONNX export (an image encoder, and
 * optionally a text encoder with its tokenizer) as model `name`: copies (or
 * links) the files into `<modelDir>/<name>/`, reads the tensor names, input
 * size, context length and embedding width from the files themselves (test
 * runs on blank input), records each file's size and sha256, and writes
 * `vad-model.json`, which resolveModelSpec reads. Everything happens in a
 * hidden staging folder renamed into place at the end, so a refusal leaves
 * nothing behind.
 */
export async function addModel(options: AddModelOptions): Promise<AddedModel> {
  const { name, modelDir } = options;
  const manifest = options.manifest ?? loadManifest();
  if (!ADDED_MODEL_NAME.test(name)) {
    throw new AddModelError(
      `invalid model name "${name}": use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 100 characters)`,
    );
  }
  if (Object.hasOwn(manifest.models, name)) {
    throw new AddModelError(`"${name}" is a model of models/manifest.json; choose another name for your model`);
  }
  const folder = join(modelDir, name);
  let replacing = false;
  if (existsSync(folder)) {
    let added: ModelSpec | undefined;
    try {
      added = readLocalModelSpec(name, modelDir);
    } catch {
      added = undefined;
    }
    const hasSpec = existsSync(join(folder, LOCAL_SPEC_FILE));
    if (!hasSpec) {
      throw new AddModelError(
        `${folder} already exists and is not a model added with vad models add; choose another name`,
      );
    }
    if (!options.force) {
      throw new AddModelError(
        `model "${name}" was already added${added?.source.type === 'local' ? ` from ${added.source.addedFrom.image}` : ''}; use --force to replace it`,
      );
    }
    replacing = true;
  }

  const cwd = options.cwd ?? process.cwd();
  const image = existingFile(resolve(cwd, options.image), 'image encoder');
  const text = options.text ? existingFile(resolve(cwd, options.text), 'text encoder') : undefined;
  if (text && !options.tokenizer) {
    throw new AddModelError('--text needs --tokenizer: the folder with the model’s tokenizer.json');
  }
  if (!text && options.tokenizer) {
    throw new AddModelError('--tokenizer without --text: a tokenizer is only used by a text encoder');
  }
  const tokenizerSource = options.tokenizer ? resolve(cwd, options.tokenizer) : undefined;
  const tokenizer = tokenizerSource ? tokenizerFiles(tokenizerSource) : undefined;
  for (const [flag, values] of [
    ['--mean', options.mean],
    ['--std', options.std],
  ] as const) {
    if (values && (values.length !== 3 || values.some((v) => !Number.isFinite(v)))) {
      throw new AddModelError(`${flag} needs three numbers (r,g,b)`);
    }
  }
  if (options.std?.some((v) => v <= 0)) throw new AddModelError('--std values must be positive');

  await mkdir(modelDir, { recursive: true });
  const staging = join(modelDir, `.adding-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const sources: { role: AddedFile['role']; path: string; source: string }[] = [
    { role: 'image', path: ADDED_LAYOUT.image, source: image },
  ];
  if (text && tokenizer) {
    sources.push({ role: 'text', path: ADDED_LAYOUT.text, source: text });
    sources.push({ role: 'tokenizer', path: ADDED_LAYOUT.tokenizer, source: tokenizer.path });
    if (tokenizer.config)
      sources.push({ role: 'tokenizerConfig', path: ADDED_LAYOUT.tokenizerConfig, source: tokenizer.config });
  }
  try {
    for (const file of sources) {
      const target = join(staging, file.path);
      await mkdir(dirname(target), { recursive: true });
      if (options.link) await symlink(file.source, target);
      else await copyFile(file.source, target);
    }
    const at = (role: AddedFile['role']) => join(staging, sources.find((s) => s.role === role)?.path ?? '');
    const imageInfo = await inspectImage(at('image'), image, options.inputSize);
    const textInfo =
      text && tokenizer
        ? await inspectText(
            at('text'),
            text,
            {
              path: at('tokenizer'),
              config: tokenizer.config ? at('tokenizerConfig') : undefined,
              source: tokenizerSource ?? tokenizer.path,
            },
            options.contextLength,
          )
        : undefined;
    if (textInfo && textInfo.io.embeddingSize !== imageInfo.io.embeddingSize) {
      throw new AddModelError(
        `the image encoder gives ${imageInfo.io.embeddingSize}-d embeddings but the text encoder ${textInfo.io.embeddingSize}-d: both must embed into the same space (export the projected features of one model)`,
      );
    }

    // Preprocessing: an export that takes uint8 frames normalises them itself, as its metadata records;
    // a float32 one gets its folded model beside it (not recorded in the spec: derived, and checked at load).
    let mean = options.mean ?? CLIP_MEAN;
    let std = options.std ?? CLIP_STD;
    let fold: FoldOutcome;
    if (imageInfo.io.format === 'uint8-nhwc') {
      const own = await readPreprocessing(at('image')).catch(() => undefined);
      if (own) {
        const differs = (given: readonly number[] | undefined, recorded: readonly number[]) =>
          given?.some((v, i) => Math.abs(v - (recorded[i] as number)) > 1e-9) === true;
        for (const [flag, given, recorded] of [
          ['--mean', options.mean, own.mean],
          ['--std', options.std, own.std],
        ] as const) {
          if (differs(given, recorded)) {
            throw new AddModelError(
              `${image}: its graph normalises frames itself with ${flag.slice(2)} ${recorded.join(',')} (metadata vad.preprocessing); ${flag} ${given?.join(',')} differs`,
            );
          }
        }
        if (own.size !== null && own.size !== imageInfo.inputSize) {
          throw new AddModelError(
            `${image}: its graph takes ${own.size}×${own.size} frames, not ${imageInfo.inputSize}`,
          );
        }
        mean = own.mean;
        std = own.std;
      }
      fold = { status: 'native', path: join(folder, ADDED_LAYOUT.image) };
    } else {
      const outcome = await ensureFolded(at('image'), { mean, std, size: imageInfo.inputSize });
      fold = { ...outcome, path: join(folder, relative(staging, outcome.path)) };
    }

    const files: AddedFile[] = [];
    for (const file of sources) {
      const staged = join(staging, file.path);
      files.push({ ...file, bytes: (await stat(staged)).size, sha256: await sha256File(staged) });
    }
    const recorded = (role: AddedFile['role']) => {
      const file = files.find((f) => f.role === role);
      return file ? { path: file.path, bytes: file.bytes, sha256: file.sha256 } : undefined;
    };
    const imageFile = recorded('image');
    if (!imageFile) throw new Error('no image file recorded');
    const spec = modelSpecSchema.parse({
      description: options.description ?? `added with vad models add from ${dirname(image)}`,
      synthetic: false,
      source: {
        type: 'local',
        addedFrom: { image, ...(text ? { text } : {}), ...(tokenizerSource ? { tokenizer: tokenizerSource } : {}) },
        linked: options.link === true,
        addedAt: new Date().toISOString(),
      },
      files: {
        image: imageFile,
        ...(textInfo ? { text: recorded('text'), tokenizer: recorded('tokenizer') } : {}),
        ...(textInfo && recorded('tokenizerConfig') ? { tokenizerConfig: recorded('tokenizerConfig') } : {}),
      },
      inputSize: imageInfo.inputSize,
      mean,
      std,
      embeddingSize: imageInfo.io.embeddingSize,
      contextLength: textInfo?.io.contextLength ?? options.contextLength ?? 77,
      logitScale: options.logitScale ?? 100,
      tensors: {
        image: { input: imageInfo.io.input, output: imageInfo.io.output },
        ...(textInfo ? { text: { input: textInfo.io.ids, output: textInfo.io.output } } : {}),
      },
    } satisfies Record<keyof ModelSpec, unknown>);
    await writeFile(join(staging, LOCAL_SPEC_FILE), `${JSON.stringify(spec, null, 2)}\n`);
    if (replacing) await rm(folder, { recursive: true, force: true });
    await rename(staging, folder);
    return {
      name,
      folder,
      spec,
      files,
      image: imageInfo.io,
      text: textInfo?.io,
      fold,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
