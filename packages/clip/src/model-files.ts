import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_INPUT_SIZE, CLIP_MEAN, CLIP_STD, type ModelFile, type ModelSpec } from './manifest.js';

export interface ModelPaths {
  folder: string;
  image: string;
  text?: string | undefined;
  tokenizer?: string | undefined;
  tokenizerConfig?: string | undefined;
}

/** A model file is missing: the message says which command installs it. */
export class ModelNotInstalledError extends Error {
  constructor(
    readonly model: string,
    readonly missing: string,
    readonly hint: string,
    message?: string,
  ) {
    super(message ?? `model "${model}" is not installed (missing ${missing}); ${hint}`);
    this.name = 'ModelNotInstalledError';
  }
}

/**
 * A model file is there but its size is not the one the manifest (or the
 * added model's spec) records: an interrupted copy or download, or a
 * different file. A ModelNotInstalledError, so that whatever stops for a
 * missing model stops for this one too.
 */
export class ModelFileSizeError extends ModelNotInstalledError {
  constructor(
    model: string,
    readonly file: string,
    readonly expectedBytes: number,
    readonly foundBytes: number,
    hint: string,
  ) {
    super(
      model,
      file,
      hint,
      `model "${model}": ${file} is ${foundBytes} bytes, expected ${expectedBytes} (an interrupted download or copy, or another file); ${hint}`,
    );
    this.name = 'ModelFileSizeError';
  }
}

/** The model cannot do what was asked of it (e.g. encode text): no install fixes that. */
export class ModelCapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCapabilityError';
  }
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The `vad models add` command that adds a local model again, from where it was added. */
export function addCommand(name: string, spec: ModelSpec): string {
  if (spec.source.type !== 'local') throw new Error(`model "${name}" was not added with vad models add`);
  const from = spec.source.addedFrom;
  const args = ['vad models add', name, '--force', '--image', shellQuote(from.image)];
  if (from.text) args.push('--text', shellQuote(from.text));
  if (from.tokenizer) args.push('--tokenizer', shellQuote(from.tokenizer));
  // Only what differs from the defaults (CLIP's preprocessing; the export's own input size is found again).
  if (spec.inputSize !== CLIP_INPUT_SIZE) args.push('--input-size', String(spec.inputSize));
  if (spec.mean.some((v, i) => v !== CLIP_MEAN[i])) args.push('--mean', spec.mean.join(','));
  if (spec.std.some((v, i) => v !== CLIP_STD[i])) args.push('--std', spec.std.join(','));
  if (spec.logitScale !== 100) args.push('--logit-scale', String(spec.logitScale));
  if (spec.files.text && spec.contextLength !== 77) args.push('--context-length', String(spec.contextLength));
  if (!spec.description.startsWith('added with vad models add'))
    args.push('--description', shellQuote(spec.description));
  if (spec.source.linked) args.push('--link');
  return args.join(' ');
}

/** The command that installs a model that is not there. */
export function installHint(name: string, spec: ModelSpec): string {
  switch (spec.source.type) {
    case 'built':
      return `build it with: ${spec.source.command}`;
    case 'local':
      return `add it again with: ${addCommand(name, spec)}`;
    default:
      return `fetch it with: vad models fetch ${name}`;
  }
}

/** What repairs a model whose files are there but wrong (size or hash). */
export function repairHint(name: string, spec: ModelSpec): string {
  switch (spec.source.type) {
    case 'built':
      return `build it again with: ${spec.source.command}`;
    case 'local':
      return spec.source.linked
        ? `the linked file changed since it was added; if that is intended, add it again with: ${addCommand(name, spec)}`
        : `add it again with: ${addCommand(name, spec)}`;
    default:
      return `run vad models fetch ${name} to resume or download it again, then vad models verify ${name}`;
  }
}

/** The model's files that exist in its spec, by role. */
export function modelFiles(spec: ModelSpec): { role: string; file: ModelFile }[] {
  const { image, text, tokenizer, tokenizerConfig } = spec.files;
  return [
    { role: 'image', file: image },
    { role: 'text', file: text },
    { role: 'tokenizer', file: tokenizer },
    { role: 'tokenizerConfig', file: tokenizerConfig },
  ].filter((f): f is { role: string; file: ModelFile } => f.file !== undefined);
}

export type ModelRole = 'image' | 'text';

/**
 * Paths of a model's files in `<modelDir>/<name>/`; throws
 * ModelNotInstalledError if a needed one is absent, and ModelFileSizeError if
 * its size is not the recorded one (a stat, no hashing: cheap enough for every load).
 */
export function resolveModelPaths(modelDir: string, name: string, spec: ModelSpec, roles: ModelRole[]): ModelPaths {
  const folder = join(modelDir, name);
  const path = (file: { path: string } | undefined) => (file ? join(folder, file.path) : undefined);
  const paths: ModelPaths = {
    folder,
    image: join(folder, spec.files.image.path),
    text: path(spec.files.text),
    tokenizer: path(spec.files.tokenizer),
    tokenizerConfig: path(spec.files.tokenizerConfig),
  };
  const needed: { file: ModelFile; path: string; optional?: boolean }[] = [];
  if (roles.includes('image')) needed.push({ file: spec.files.image, path: paths.image });
  if (roles.includes('text')) {
    if (!spec.files.text || !spec.files.tokenizer || !paths.text || !paths.tokenizer)
      throw new ModelCapabilityError(`model "${name}" has no text encoder: it cannot score prompts`);
    needed.push({ file: spec.files.text, path: paths.text }, { file: spec.files.tokenizer, path: paths.tokenizer });
    if (spec.files.tokenizerConfig && paths.tokenizerConfig)
      needed.push({ file: spec.files.tokenizerConfig, path: paths.tokenizerConfig, optional: true });
  }
  for (const { file, path, optional } of needed) {
    if (!existsSync(path)) {
      if (optional) continue;
      throw new ModelNotInstalledError(name, path, installHint(name, spec));
    }
    if (file.bytes !== undefined) {
      const found = statSync(path).size;
      if (found !== file.bytes) throw new ModelFileSizeError(name, path, file.bytes, found, repairHint(name, spec));
    }
  }
  return paths;
}
