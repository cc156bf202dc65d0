import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeBenchCaptioner } from './bench-captioner.js';
import { buildTemporalHead } from './temporal-head.js';
import { tinyCaptionerFiles } from './tiny-captioner.js';
import {
  buildTinyImageModel,
  buildTinyTextModel,
  TINY_EMBEDDING_SIZE,
  tinyTokenizerConfig,
  tinyTokenizerJson,
} from './tiny-model.js';
import { buildVitImageModel } from './vit-b32-model.js';

export const BUILT_MODELS = [
  'vad-test-tiny',
  'vad-bench-vitb32',
  'vad-test-head',
  'vad-test-captioner',
  'vad-bench-captioner',
] as const;
export type BuiltModelName = (typeof BUILT_MODELS)[number];

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

export interface BuiltFile {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Builds one of the project's own models into `<modelDir>/<name>/`, with the
 * same layout a downloaded model has. Deterministic: the same bytes every time.
 */
export async function buildModel(name: BuiltModelName, modelDir: string): Promise<BuiltFile[]> {
  const folder = join(modelDir, name);
  // About 1 GB, its decoder weights streamed to disk as they are drawn.
  if (name === 'vad-bench-captioner') return writeBenchCaptioner(folder);
  const files: Record<string, Uint8Array | string> =
    name === 'vad-test-tiny'
      ? {
          'onnx/vision_model.onnx': buildTinyImageModel(),
          'onnx/text_model.onnx': buildTinyTextModel(),
          'tokenizer.json': JSON.stringify(tinyTokenizerJson(), null, 2),
          'tokenizer_config.json': JSON.stringify(tinyTokenizerConfig(), null, 2),
        }
      : name === 'vad-test-head'
        ? { 'head.onnx': buildTemporalHead(TINY_EMBEDDING_SIZE) }
        : name === 'vad-test-captioner'
          ? tinyCaptionerFiles()
          : { 'visual/model.onnx': buildVitImageModel().bytes };
  const built: BuiltFile[] = [];
  for (const [relative, data] of Object.entries(files)) {
    const path = join(folder, relative);
    await writeAtomic(path, data);
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    built.push({ path, bytes, sha256: createHash('sha256').update(data).digest('hex') });
  }
  return built;
}
