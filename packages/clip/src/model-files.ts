import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from './manifest.js';

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
  ) {
    super(`model "${model}" is not installed (missing ${missing}); ${hint}`);
    this.name = 'ModelNotInstalledError';
  }
}

/** The model cannot do what was asked of it (e.g. encode text): no install fixes that. */
export class ModelCapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCapabilityError';
  }
}

export function installHint(name: string, spec: ModelSpec): string {
  return spec.source.type === 'built'
    ? `build it with: ${spec.source.command}`
    : `fetch it with: vad models fetch ${name}`;
}

export type ModelRole = 'image' | 'text';

/** Paths of a model's files in `<modelDir>/<name>/`; throws ModelNotInstalledError if a needed one is absent. */
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
  const needed: (string | undefined)[] = [];
  if (roles.includes('image')) needed.push(paths.image);
  if (roles.includes('text')) {
    if (!paths.text || !paths.tokenizer)
      throw new ModelCapabilityError(`model "${name}" has no text encoder: it cannot score prompts`);
    needed.push(paths.text, paths.tokenizer);
  }
  for (const file of needed) {
    if (file && !existsSync(file)) throw new ModelNotInstalledError(name, file, installHint(name, spec));
  }
  return paths;
}
