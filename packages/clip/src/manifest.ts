import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifestJson } from '@vad/models';
import { z } from 'zod';

/** OpenAI CLIP's preprocessing, the default for an added model. */
export const CLIP_INPUT_SIZE = 224;
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

export const modelFileSchema = z.object({
  /** Path inside the model's folder (and, for downloads, below the source's baseUrl). */
  path: z.string().min(1),
  /** Expected size; verified after download when given. */
  bytes: z.number().int().positive().optional(),
  /** Expected sha256; verified after download when pinned. */
  sha256: sha256.optional(),
});

const tensorNames = z.object({ input: z.string(), output: z.string() });

export const modelSpecSchema = z.object({
  description: z.string(),
  /** True for the project's own models: never to be called CLIP. */
  synthetic: z.boolean().default(false),
  source: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('download'),
      baseUrl: z.url(),
      page: z.url().optional(),
      license: z.string().optional(),
    }),
    z.object({ type: z.literal('built'), command: z.string() }),
    /** Added by the user with `vad models add`: files copied (or linked) from where they were. */
    z.object({
      type: z.literal('local'),
      /** Absolute paths the files were added from. */
      addedFrom: z.object({ image: z.string(), text: z.string().optional(), tokenizer: z.string().optional() }),
      /** True when the model folder holds symbolic links to those files instead of copies. */
      linked: z.boolean().default(false),
      addedAt: z.iso.datetime().optional(),
    }),
  ]),
  files: z.object({
    image: modelFileSchema,
    text: modelFileSchema.optional(),
    tokenizer: modelFileSchema.optional(),
    tokenizerConfig: modelFileSchema.optional(),
  }),
  inputSize: z.number().int().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  embeddingSize: z.number().int().positive(),
  contextLength: z.number().int().positive().default(77),
  logitScale: z.number().positive().default(100),
  /** Tensor names of the export; the adapter still reads the loaded session and maps what it finds. */
  tensors: z.object({ image: tensorNames, text: tensorNames.optional() }),
});

export const MODEL_NAME_PATTERN = /^[\w.-]+$/;

export const manifestSchema = z.object({ models: z.record(z.string().regex(MODEL_NAME_PATTERN), modelSpecSchema) });

/** Name of the spec file of a model added with `vad models add`, in its folder. */
export const LOCAL_SPEC_FILE = 'vad-model.json';

export type ModelFile = z.infer<typeof modelFileSchema>;
export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;

let cached: ModelManifest | undefined;

/** models/manifest.json (its `models`), validated. */
export function loadManifest(path?: string): ModelManifest {
  if (!path && cached) return cached;
  const manifest = manifestSchema.parse(readManifestJson(path));
  if (!path) cached = manifest;
  return manifest;
}

export class UnknownModelError extends Error {
  /**
   * `local`: the model folder searched for added models and the names found
   * there (absent when only the manifest was searched).
   */
  constructor(name: string, known: string[], local?: { modelDir: string; names: string[] }) {
    const added = local
      ? local.names.length
        ? `; added with vad models add in ${local.modelDir}: ${local.names.join(', ')}`
        : `; none added with vad models add in ${local.modelDir}`
      : '';
    super(`unknown model "${name}": models/manifest.json lists ${known.join(', ')}${added}`);
    this.name = 'UnknownModelError';
  }
}

/** A model's vad-model.json is there but unreadable or invalid. */
export class InvalidModelSpecError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path} is not a valid model spec: ${reason}`);
    this.name = 'InvalidModelSpecError';
  }
}

/** A model from models/manifest.json only; see resolveModelSpec for added models too. */
export function getModelSpec(name: string, manifest: ModelManifest = loadManifest()): ModelSpec {
  const spec = Object.hasOwn(manifest.models, name) ? manifest.models[name] : undefined;
  if (!spec) throw new UnknownModelError(name, Object.keys(manifest.models));
  return spec;
}

function reasonOf(error: unknown): string {
  if (error instanceof z.ZodError) {
    return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** Reads and validates `<modelDir>/<name>/vad-model.json`; undefined when there is none. */
export function readLocalModelSpec(name: string, modelDir: string): ModelSpec | undefined {
  if (!MODEL_NAME_PATTERN.test(name) || name === '.' || name === '..') return undefined;
  const path = join(modelDir, name, LOCAL_SPEC_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw new InvalidModelSpecError(path, reasonOf(error));
  }
  let spec: ModelSpec;
  try {
    spec = modelSpecSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new InvalidModelSpecError(path, reasonOf(error));
  }
  if (spec.source.type !== 'local') {
    throw new InvalidModelSpecError(path, `source.type is "${spec.source.type}"; an added model's is "local"`);
  }
  return spec;
}

export interface LocalModel {
  name: string;
  /** Absent when the spec file is invalid; then `error` says why. */
  spec?: ModelSpec;
  error?: string;
}

/** Models added with `vad models add`: the folders of `modelDir` that hold a vad-model.json, by name. */
export function listLocalModels(modelDir: string, manifest: ModelManifest = loadManifest()): LocalModel[] {
  let entries: string[];
  try {
    entries = readdirSync(modelDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && MODEL_NAME_PATTERN.test(e.name) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
  const models: LocalModel[] = [];
  for (const name of entries) {
    if (Object.hasOwn(manifest.models, name)) continue;
    try {
      const spec = readLocalModelSpec(name, modelDir);
      if (spec) models.push({ name, spec });
    } catch (error) {
      models.push({ name, error: reasonOf(error) });
    }
  }
  return models;
}

/**
 * A model by name: models/manifest.json first, then a model added with
 * `vad models add` (`<modelDir>/<name>/vad-model.json`). Throws
 * UnknownModelError (listing both kinds) or InvalidModelSpecError.
 */
export function resolveModelSpec(name: string, modelDir: string, manifest: ModelManifest = loadManifest()): ModelSpec {
  const listed = Object.hasOwn(manifest.models, name) ? manifest.models[name] : undefined;
  if (listed) return listed;
  const local = readLocalModelSpec(name, modelDir);
  if (local) return local;
  throw new UnknownModelError(name, Object.keys(manifest.models), {
    modelDir,
    names: listLocalModels(modelDir, manifest)
      .filter((m) => m.spec)
      .map((m) => m.name),
  });
}
