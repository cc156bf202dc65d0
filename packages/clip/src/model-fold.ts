import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import {
  FoldError,
  foldedPathOf,
  foldModelFile,
  preprocessingMatches,
  readPreprocessing,
  sampleSha256,
} from './fold-preprocessing.js';
import { imageIo, imageTensor } from './io-adapter.js';
import type { ModelSpec } from './manifest.js';
import { resolveModelPaths } from './model-files.js';

/**
 * Installed models and their folded preprocessing: an image encoder that
 * takes float32 NCHW pixels gets a second file beside it,
 * `<name>.vad-folded.onnx`, that takes the frames' uint8 RGB bytes (see
 * fold-preprocessing.ts). The original stays as it was downloaded or added,
 * so `vad models verify` (sizes, pinned sha256) and resumed downloads keep
 * working on it; the embed worker loads the folded file when it is there and
 * still matches its original.
 */

export interface Preprocessing {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** The side of the frames (the spec's inputSize). */
  size: number;
}

export type FoldStatus = 'folded' | 'up-to-date' | 'native' | 'failed';

export interface FoldOutcome {
  /**
   * `folded`: written now; `up-to-date`: a folded file matching the original was there;
   * `native`: the model takes uint8 frames itself (vad's built models, or a folded file added as the model);
   * `failed`: it could not be folded (`reason`): frames are normalised in JavaScript.
   */
  status: FoldStatus;
  /** The file the embed worker loads. */
  path: string;
  reason?: string;
  /** Largest difference between the folded and the original model's outputs on two test frames, relative to the largest output. */
  difference?: number;
  seconds?: number;
}

/** Largest relative difference accepted between the folded model and the original (float rounding is ~1e-6). */
export const FOLD_TOLERANCE = 1e-3;

type FoldedState =
  | { kind: 'native' }
  | { kind: 'folded'; path: string }
  | { kind: 'absent' | 'stale'; path: string; reason?: string };

async function foldedState(imagePath: string, expected: Preprocessing): Promise<FoldedState> {
  let own: Awaited<ReturnType<typeof readPreprocessing>>;
  try {
    own = await readPreprocessing(imagePath);
  } catch {
    own = undefined; // not readable as ONNX: onnxruntime says why when it loads it
  }
  if (own) return { kind: 'native' };
  const path = foldedPathOf(imagePath);
  if (!existsSync(path)) return { kind: 'absent', path };
  let folded: Awaited<ReturnType<typeof readPreprocessing>>;
  try {
    folded = await readPreprocessing(path);
  } catch (error) {
    return { kind: 'stale', path, reason: (error as Error).message };
  }
  if (!folded) return { kind: 'stale', path, reason: 'it is not a model folded by vad' };
  const mismatch = preprocessingMatches(folded, expected);
  if (mismatch) return { kind: 'stale', path, reason: mismatch };
  const source = await sampleSha256(imagePath);
  if (folded.source?.bytes !== source.bytes || folded.source.sampleSha256 !== source.sampleSha256) {
    return { kind: 'stale', path, reason: `${imagePath} changed since it was folded` };
  }
  return { kind: 'folded', path };
}

export interface ImageModelChoice {
  /** The file to load. */
  path: string;
  /** `native`: the model takes uint8 frames; `folded`: its folded file; `original`: its float32 original. */
  kind: 'native' | 'folded' | 'original';
  /** Why a folded file beside it was not used. */
  notice?: string | undefined;
}

/** The command that folds an installed model. */
export function foldCommand(model: string | undefined): string {
  return `vad models fold ${model ?? '<model name>'}`;
}

/** What the embed worker logs when it loads a model that takes float32 pixels. */
export function unfoldedNotice(model: string | undefined, path: string): string {
  return `${path} takes float32 pixels, so frames are normalised in JavaScript in the inference thread (a per-pixel loop that limits throughput, most of all on a GPU); fold the preprocessing into the model with: ${foldCommand(model)}`;
}

/**
 * Which file of an installed image encoder to load: the model itself when it
 * takes uint8 frames, else its folded file when that is there and still
 * matches (same preprocessing, same original), else the original (with a
 * notice when a folded file was there but is stale). Cheap: a few small reads.
 */
export async function selectImageModel(
  imagePath: string,
  expected: Preprocessing,
  model?: string,
): Promise<ImageModelChoice> {
  const state = await foldedState(imagePath, expected);
  switch (state.kind) {
    case 'native':
      return { path: imagePath, kind: 'native' };
    case 'folded':
      return { path: state.path, kind: 'folded' };
    case 'stale':
      return {
        path: imagePath,
        kind: 'original',
        notice: `not using ${state.path}: ${state.reason}; fold it again with: ${foldCommand(model)}`,
      };
    default:
      return { path: imagePath, kind: 'original' };
  }
}

/** Deterministic test frames (a linear congruential sequence: no two pixels alike, the same every time). */
function testFrames(frames: number, size: number): Uint8Array {
  const out = new Uint8Array(frames * size * size * 3);
  let state = 12345;
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/**
 * Runs two test frames through the original (normalised in JavaScript) and
 * the folded model (raw bytes) and returns the largest difference of their
 * outputs relative to the largest output.
 */
export async function compareFolded(original: string, folded: string, expected: Preprocessing): Promise<number> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'basic' };
  const rgb = testFrames(2, expected.size);
  const outputs: Float32Array[] = [];
  for (const path of [original, folded]) {
    const session = await ort.InferenceSession.create(path, options);
    try {
      const io = imageIo(session);
      const result = await session.run(
        { [io.input]: imageTensor(io.format, rgb, 2, expected.size, expected.mean, expected.std) },
        [io.output],
      );
      outputs.push(new Float32Array(result[io.output]?.data as Float32Array));
    } finally {
      await session.release();
    }
  }
  const [a, b] = outputs as [Float32Array, Float32Array];
  if (a.length !== b.length || a.length === 0) return Number.POSITIVE_INFINITY;
  let scale = 0;
  let difference = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i] as number));
    difference = Math.max(difference, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return difference / Math.max(scale, 1e-12);
}

export interface EnsureFoldedOptions {
  /** Fold again even when an up-to-date folded file is there. */
  force?: boolean | undefined;
  /** Compare the folded model with the original on two test frames (default true). */
  check?: boolean | undefined;
}

/**
 * Makes sure the image encoder at `imagePath` has an up-to-date folded file
 * beside it (or takes uint8 frames itself). Never throws for a model that
 * cannot be folded: the outcome says `failed` and why, and the worker then
 * normalises frames in JavaScript as before.
 */
export async function ensureFolded(
  imagePath: string,
  expected: Preprocessing,
  options: EnsureFoldedOptions = {},
): Promise<FoldOutcome> {
  const started = performance.now();
  const state = await foldedState(imagePath, expected);
  if (state.kind === 'native') return { status: 'native', path: imagePath };
  if (state.kind === 'folded' && !options.force) return { status: 'up-to-date', path: state.path };
  const target = foldedPathOf(imagePath);
  try {
    const plan = await foldModelFile(imagePath, target, expected);
    if (plan.status === 'already-folded') return { status: 'native', path: imagePath };
    const outcome: FoldOutcome = { status: 'folded', path: target };
    if (options.check !== false) {
      const difference = await compareFolded(imagePath, target, expected);
      if (!(difference <= FOLD_TOLERANCE)) {
        throw new FoldError(
          `the folded model's outputs differ from the original's by ${difference.toExponential(2)} (relative; at most ${FOLD_TOLERANCE} expected)`,
        );
      }
      outcome.difference = difference;
    }
    outcome.seconds = (performance.now() - started) / 1000;
    return outcome;
  } catch (error) {
    await rm(target, { force: true });
    const message = (error as Error).message.replace(/^Load model from \S+ failed:\s*/, '');
    return { status: 'failed', path: imagePath, reason: message };
  }
}

/** Folds the image encoder of an installed model (throws ModelNotInstalledError when it is not installed). */
export async function foldInstalledModel(
  name: string,
  spec: ModelSpec,
  modelDir: string,
  options: EnsureFoldedOptions = {},
): Promise<FoldOutcome> {
  const paths = resolveModelPaths(modelDir, name, spec, ['image']);
  return ensureFolded(paths.image, { mean: spec.mean, std: spec.std, size: spec.inputSize }, options);
}

/** One line for a fold's outcome, as the model commands print it. */
export function describeFold(outcome: FoldOutcome): string {
  switch (outcome.status) {
    case 'folded':
      return `folded preprocessing into ${outcome.path}${outcome.difference !== undefined ? ` (outputs match the original to ${outcome.difference.toExponential(1)})` : ''}`;
    case 'up-to-date':
      return `preprocessing already folded: ${outcome.path}`;
    case 'native':
      return `${outcome.path} takes uint8 frames itself (preprocessing in its graph)`;
    default:
      return `could not fold the preprocessing into ${outcome.path}: ${outcome.reason}; frames will be normalised in JavaScript`;
  }
}
