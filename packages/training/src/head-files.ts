import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HEADS_FOLDER, headFile, headNameProblem, LearnedHead } from '@vad/clip';

/** What a card says of the head and its training (the card adds name, sha256 and date). */
export type HeadCardInput = {
  model: string;
  embeddingSize: number;
  classes: string[];
  namedClasses: boolean;
} & Record<string, unknown>;

/** The JSON card written beside a head: what it is, what it was trained on, how well it did. */
export type HeadCard = { name: string; sha256: string; createdAt: string } & HeadCardInput;

export interface WrittenHead {
  name: string;
  file: string;
  card: string;
  sha256: string;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Writes a file under a temporary name and renames it into place: no reader sees half a head. */
async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

const cardFile = (file: string) => file.replace(/\.onnx$/, '.json');

/**
 * Writes `heads/NAME.onnx` and its card `heads/NAME.json` in the model
 * folder. An existing head of that name is kept (an error) unless `force`.
 */
export async function writeHead(
  modelDir: string,
  name: string,
  onnx: Uint8Array,
  card: HeadCardInput,
  options: { force?: boolean } = {},
): Promise<WrittenHead> {
  const problem = headNameProblem(name);
  if (problem) throw new Error(problem);
  const file = headFile(modelDir, name);
  if (!options.force && (await exists(file)))
    throw new Error(`a head named ${name} exists already (${file}): choose another name, or replace it with --force`);
  await mkdir(dirname(file), { recursive: true });
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  const full: HeadCard = { name: name.replace(/\.onnx$/, ''), sha256, createdAt: new Date().toISOString(), ...card };
  await writeAtomic(file, onnx);
  await writeAtomic(cardFile(file), `${JSON.stringify(full, null, 2)}\n`);
  return { name: full.name, file, card: cardFile(file), sha256 };
}

/**
 * Installs a head file (from `vad train` elsewhere, or a colleague) into
 * `heads/`, so every aggregate worker sharing the model folder finds it by
 * name: checked against the tensor contract first, then copied as NAME (or
 * `head-<sha256 prefix>`), with its card when one lies beside it. The same
 * head installed twice is the same name; another head never replaces one.
 */
export async function installHead(
  modelDir: string,
  source: string,
  name?: string,
): Promise<WrittenHead & { installed: boolean }> {
  const bytes = await readFile(source);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const head = await LearnedHead.load(source);
  await head.close();
  if (head.sha256 !== sha256) throw new Error(`${source} changed while it was being read: try again`);
  // A file already in heads/ keeps its own name.
  const inHeads = resolve(dirname(source)) === resolve(modelDir, HEADS_FOLDER) && source.endsWith('.onnx');
  const target = name ?? (inHeads ? basename(source, '.onnx') : `head-${sha256.slice(0, 12)}`);
  const problem = headNameProblem(target);
  if (problem) throw new Error(problem);
  const file = headFile(modelDir, target);
  const result = { name: target.replace(/\.onnx$/, ''), file, card: cardFile(file), sha256 };
  if (await exists(file)) {
    const present = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    if (present === sha256) return { ...result, installed: false };
    throw new Error(`a different head is installed as ${result.name} (${file}): choose another name (--name)`);
  }
  await mkdir(join(modelDir, HEADS_FOLDER), { recursive: true });
  await writeAtomic(file, bytes);
  const sourceCard = cardFile(source.endsWith('.onnx') ? source : `${source}.onnx`);
  if (sourceCard !== source && (await exists(sourceCard))) await copyFile(sourceCard, result.card).catch(() => {});
  return { ...result, installed: true };
}
