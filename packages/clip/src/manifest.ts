import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';

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

export const manifestSchema = z.object({ models: z.record(z.string().regex(/^[\w.-]+$/), modelSpecSchema) });

export type ModelFile = z.infer<typeof modelFileSchema>;
export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ModelManifest = z.infer<typeof manifestSchema>;

let cached: ModelManifest | undefined;

/** models/manifest.json, validated. */
export function loadManifest(path?: string): ModelManifest {
  if (!path && cached) return cached;
  const file = path ?? createRequire(import.meta.url).resolve('@vad/models/manifest.json');
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  if (!path) cached = manifest;
  return manifest;
}

export class UnknownModelError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown model "${name}": models/manifest.json lists ${known.join(', ')}`);
    this.name = 'UnknownModelError';
  }
}

export function getModelSpec(name: string, manifest: ModelManifest = loadManifest()): ModelSpec {
  const spec = manifest.models[name];
  if (!spec) throw new UnknownModelError(name, Object.keys(manifest.models));
  return spec;
}
