import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileSizeError, ModelNotInstalledError } from '@vad/clip';
import { readManifestJson } from '@vad/models';
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

export const captionerFileSchema = z.object({
  /** Path inside the captioner's folder (and, for downloads, below the source's baseUrl). */
  path: z.string().min(1),
  /** Expected size; checked on load (a stat) and after download when given. */
  bytes: z.number().int().positive().optional(),
  /** Expected sha256; verified after download when pinned. */
  sha256: sha256.optional(),
});

export const generationConfigSchema = z.object({
  /** The first token of every caption (GPT-2: 50256, <|endoftext|>). */
  decoderStartTokenId: z.number().int().nonnegative(),
  eosTokenId: z.number().int().nonnegative(),
  /** Fed to rows that have finished while others go on. */
  padTokenId: z.number().int().nonnegative(),
  /** Most tokens generated after the start token. */
  maxNewTokens: z.number().int().positive(),
  /** 1: greedy; more: beam search. */
  numBeams: z.number().int().positive().default(1),
  /** Beam scores are the summed log-probabilities over (generated length, end token included) ** lengthPenalty. */
  lengthPenalty: z.number().default(1),
});

export const captionerSpecSchema = z.object({
  description: z.string(),
  /** True for the project's own models: never to be called a real captioner. */
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
  /**
   * Hugging Face Optimum's layout. The decoder that runs is `decoderMerged`
   * when listed, else `decoder` (with `decoderWithPast` for the steps after
   * the first when listed); the session's own input names then say how to
   * feed it (no cache, with past, merged).
   */
  files: z
    .object({
      encoder: captionerFileSchema,
      decoder: captionerFileSchema.optional(),
      decoderWithPast: captionerFileSchema.optional(),
      decoderMerged: captionerFileSchema.optional(),
      /** External-data files the graphs reference (weights stored beside a .onnx). */
      externalData: z.array(captionerFileSchema).default([]),
      tokenizer: captionerFileSchema,
      tokenizerConfig: captionerFileSchema.optional(),
    })
    .refine((f) => f.decoder !== undefined || f.decoderMerged !== undefined, {
      message: 'lists neither decoder nor decoderMerged',
    })
    .refine((f) => f.decoderWithPast === undefined || f.decoder !== undefined, {
      message: 'decoderWithPast needs decoder (the first step)',
    }),
  /** The encoder's square input (pixel_values [N,3,S,S]). */
  inputSize: z.number().int().positive(),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  /** How a frame of another size becomes S×S: `fill` stretches (ViTImageProcessor), `cover` crops the centre. */
  resize: z.enum(['fill', 'cover']).default('fill'),
  generation: generationConfigSchema,
  /** Heads and head size of the KV cache, when the decoder's past inputs do not say. */
  cache: z.object({ heads: z.number().int().positive(), headDim: z.number().int().positive() }).optional(),
});

export const CAPTIONER_NAME_PATTERN = /^[\w.-]+$/;

/** The `captioners` section of models/manifest.json (its `models` section is @vad/clip's). */
export const captionerManifestSchema = z.object({
  captioners: z.record(z.string().regex(CAPTIONER_NAME_PATTERN), captionerSpecSchema).default({}),
});

export type CaptionerFile = z.infer<typeof captionerFileSchema>;
export type CaptionerSpec = z.infer<typeof captionerSpecSchema>;
export type CaptionerManifest = z.infer<typeof captionerManifestSchema>;
export type GenerationConfig = z.infer<typeof generationConfigSchema>;

let cached: CaptionerManifest | undefined;

/** The `captioners` of models/manifest.json (or of the manifest at `path`), validated. */
export function loadCaptionerManifest(path?: string): CaptionerManifest {
  if (!path && cached) return cached;
  const manifest = captionerManifestSchema.parse(readManifestJson(path));
  if (!path) cached = manifest;
  return manifest;
}

export class UnknownCaptionerError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown captioner "${name}": models/manifest.json lists ${known.join(', ') || 'none'}`);
    this.name = 'UnknownCaptionerError';
  }
}

export function getCaptionerSpec(name: string, manifest: CaptionerManifest = loadCaptionerManifest()): CaptionerSpec {
  const spec = Object.hasOwn(manifest.captioners, name) ? manifest.captioners[name] : undefined;
  if (!spec) throw new UnknownCaptionerError(name, Object.keys(manifest.captioners));
  return spec;
}

/** A captioner's files are not (all) there: the message says which command installs it. */
export class CaptionerNotInstalledError extends ModelNotInstalledError {
  constructor(name: string, missing: string, hint: string) {
    super(name, missing, hint, `captioner "${name}" is not installed (missing ${missing}); ${hint}`);
    this.name = 'CaptionerNotInstalledError';
  }
}

/** The command that installs a captioner. */
export function captionerInstallHint(name: string, spec: CaptionerSpec): string {
  return spec.source.type === 'built'
    ? `build it with: ${spec.source.command}`
    : `fetch it with: vad models fetch ${name}`;
}

/** What repairs a captioner whose files are there but wrong. */
export function captionerRepairHint(name: string, spec: CaptionerSpec): string {
  return spec.source.type === 'built'
    ? `build it again with: ${spec.source.command}`
    : `run vad models fetch ${name} to resume or download it again`;
}

export type CaptionerRole =
  | 'encoder'
  | 'decoder'
  | 'decoderWithPast'
  | 'decoderMerged'
  | 'externalData'
  | 'tokenizer'
  | 'tokenizerConfig';

/** Every file a captioner's spec lists, by role (what a fetch downloads and a verify checks). */
export function captionerFiles(spec: CaptionerSpec): { role: CaptionerRole; file: CaptionerFile }[] {
  const f = spec.files;
  const listed: { role: CaptionerRole; file: CaptionerFile | undefined }[] = [
    { role: 'encoder', file: f.encoder },
    { role: 'decoder', file: f.decoder },
    { role: 'decoderWithPast', file: f.decoderWithPast },
    { role: 'decoderMerged', file: f.decoderMerged },
    ...f.externalData.map((file) => ({ role: 'externalData' as const, file })),
    { role: 'tokenizer', file: f.tokenizer },
    { role: 'tokenizerConfig', file: f.tokenizerConfig },
  ];
  return listed.filter((e): e is { role: CaptionerRole; file: CaptionerFile } => e.file !== undefined);
}

export interface CaptionerPaths {
  folder: string;
  encoder: string;
  /** The decoder run for the first step (and every step without a cache): decoderMerged when listed, else decoder. */
  decoder: string;
  /** The decoder run after the first step, when the spec lists decoderWithPast (and no decoderMerged). */
  decoderWithPast?: string | undefined;
  tokenizer: string;
  /** Absent when not listed or not there (it is optional). */
  tokenizerConfig?: string | undefined;
}

/**
 * Paths of an installed captioner in `<modelDir>/<name>/`; throws
 * CaptionerNotInstalledError (saying how to install it) when a needed file
 * is absent, and ModelFileSizeError when one has the wrong recorded size.
 */
export function resolveCaptionerPaths(modelDir: string, name: string, spec: CaptionerSpec): CaptionerPaths {
  const folder = join(modelDir, name);
  const f = spec.files;
  const at = (file: CaptionerFile) => join(folder, file.path);
  const decoderFile = f.decoderMerged ?? f.decoder;
  if (!decoderFile) throw new Error(`captioner "${name}" lists no decoder`);
  const withPast = f.decoderMerged ? undefined : f.decoderWithPast;
  const needed = [f.encoder, decoderFile, ...(withPast ? [withPast] : []), ...f.externalData, f.tokenizer];
  for (const file of needed) {
    const path = at(file);
    if (!existsSync(path)) throw new CaptionerNotInstalledError(name, path, captionerInstallHint(name, spec));
    if (file.bytes !== undefined) {
      const found = statSync(path).size;
      if (found !== file.bytes)
        throw new ModelFileSizeError(name, path, file.bytes, found, captionerRepairHint(name, spec));
    }
  }
  const tokenizerConfig = f.tokenizerConfig && existsSync(at(f.tokenizerConfig)) ? at(f.tokenizerConfig) : undefined;
  return {
    folder,
    encoder: at(f.encoder),
    decoder: at(decoderFile),
    decoderWithPast: withPast ? at(withPast) : undefined,
    tokenizer: at(f.tokenizer),
    tokenizerConfig,
  };
}
