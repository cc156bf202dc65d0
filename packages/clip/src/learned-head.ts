import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { GraphOptimization } from './session.js';

/**
 * Learned heads (`vad train`) live in `<VAD_MODEL_DIR>/heads/NAME.onnx`, so
 * every aggregate worker that shares the model folder finds them by name.
 */
export const HEADS_FOLDER = 'heads';

/** A head's name: letters, digits, `.`, `_`, `-`; no path separators, not starting with a dot. */
export const HEAD_NAME = /^[A-Za-z0-9_][\w.-]{0,127}$/;

/** The tensor contract's version, in the head's metadata (`vad.format`). */
export const LEARNED_HEAD_FORMAT = 'vad-learned-head/1';

/** Why a name is not a head name, or undefined when it is one. */
export function headNameProblem(name: string): string | undefined {
  if (HEAD_NAME.test(name)) return undefined;
  if (/[/\\]/.test(name)) return `"${name}" is a path: a head is named by its file name in <VAD_MODEL_DIR>/heads`;
  return `"${name}" is not a head name (letters, digits, ".", "_", "-"; not starting with a dot)`;
}

/** `<modelDir>/heads/NAME.onnx` (NAME with or without `.onnx`); throws for a name that is not a head name. */
export function headFile(modelDir: string, name: string): string {
  const problem = headNameProblem(name);
  if (problem) throw new Error(problem);
  return join(modelDir, HEADS_FOLDER, name.endsWith('.onnx') ? name : `${name}.onnx`);
}

/** What a learned head says about itself (ONNX metadata_props `vad.*`). */
export interface LearnedHeadInfo {
  /** Class names, `normal` first: the order of the `logits` output's last axis. */
  classes: string[];
  /** Index of the normal class in `classes` (0). */
  normalIndex: number;
  /** Whether the classes name anomalies (false: only normal and one generic anomaly class). */
  namedClasses: boolean;
  /** Width D of the clip features it takes. */
  embeddingSize: number;
  /** The embedding model whose frame vectors it was trained on, if recorded. */
  model: string | undefined;
  /** Every `vad.*` entry as written (seed, data summary, validation AUC…). */
  metadata: Record<string, string>;
}

/** One run of a head over a video's clips. */
export interface LearnedHeadOutput {
  /** Per clip, 0..1 anomaly score (the `score` output). */
  scores: number[];
  /** Per clip, the class logits in `classes` order. */
  logits: Float32Array[];
}

const INPUT = 'clips';
const OUTPUTS = ['score', 'logits'] as const;

/** The `metadata_props` of an ONNX model, read from its protobuf. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
}

function headInfo(file: string, metadata: Record<string, string>): LearnedHeadInfo {
  const fail = (why: string) => new Error(`${file} is not a vad learned head: ${why}`);
  if (metadata['vad.format'] !== LEARNED_HEAD_FORMAT)
    throw fail(`metadata vad.format is ${JSON.stringify(metadata['vad.format'] ?? null)}, not ${LEARNED_HEAD_FORMAT}`);
  let classes: unknown;
  try {
    classes = JSON.parse(metadata['vad.classes'] ?? '');
  } catch {
    throw fail('metadata vad.classes is not a JSON array');
  }
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string'))
    throw fail('metadata vad.classes needs the normal class and at least one other');
  const embeddingSize = Number(metadata['vad.embedding_size']);
  if (!Number.isInteger(embeddingSize) || embeddingSize < 1) throw fail('metadata vad.embedding_size is missing');
  return {
    classes,
    normalIndex: 0,
    namedClasses: metadata['vad.named_classes'] === 'true',
    embeddingSize,
    model: metadata['vad.model'] || undefined,
    metadata,
  };
}

/**
 * A head trained by `vad train`, in onnxruntime. Tensor contract: input
 * `clips` float32 [1, N, D] (N clips of a video in order, each the
 * L2-normalised mean of its distinct frames' embeddings; N dynamic);
 * outputs `score` float32 [1, N] (0..1 anomaly score per clip) and `logits`
 * float32 [1, N, C] (class logits, `vad.classes` order, normal first).
 * Always on the CPU: it is small, and a video is one run.
 */
export class LearnedHead {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
    /** sha256 of the file's bytes, as loaded. */
    readonly sha256: string,
    readonly info: LearnedHeadInfo,
  ) {}

  static async load(file: string, options: { threads?: number; graphOptimization?: GraphOptimization } = {}) {
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let metadata: Record<string, string>;
    try {
      metadata = onnxMetadata(bytes);
    } catch (error) {
      throw new Error(`${file} is not an ONNX model: ${(error as Error).message}`);
    }
    const info = headInfo(file, metadata);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: options.graphOptimization ?? 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    const missing = [
      ...(session.inputNames.includes(INPUT) ? [] : [`input ${INPUT}`]),
      ...OUTPUTS.filter((o) => !session.outputNames.includes(o)).map((o) => `output ${o}`),
    ];
    if (missing.length) {
      await session.release();
      throw new Error(`${file} is not a vad learned head: it has no ${missing.join(', no ')}`);
    }
    return new LearnedHead(session, file, sha256, info);
  }

  /** Scores one video's clip features (each of length D, in clip order). */
  async run(features: readonly Float32Array[]): Promise<LearnedHeadOutput> {
    const count = features.length;
    const size = this.info.embeddingSize;
    if (count === 0) return { scores: [], logits: [] };
    const data = new Float32Array(count * size);
    features.forEach((feature, c) => {
      if (feature.length !== size)
        throw new Error(`the head takes ${size}-d clip features, this video's are ${feature.length}-d`);
      data.set(feature, c * size);
    });
    const result = await this.session.run({ [INPUT]: new ort.Tensor('float32', data, [1, count, size]) });
    const score = result.score?.data as Float32Array | undefined;
    const logits = result.logits?.data as Float32Array | undefined;
    if (!score || !logits) throw new Error('the learned head gave no score or logits');
    const classes = this.info.classes.length;
    return {
      scores: Array.from(score),
      logits: Array.from({ length: count }, (_, c) => logits.slice(c * classes, (c + 1) * classes)),
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
