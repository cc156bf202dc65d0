import type { PixelFormat } from './io-adapter.js';
import type { GraphOptimization, SessionOptions } from './session.js';

/** Messages between the ImageBatcher (main thread) and the inference worker thread. */
export interface InferenceInit {
  modelPath: string;
  provider: SessionOptions['provider'];
  threads: number;
  graphOptimization: GraphOptimization;
  inputSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  names?: { input: string; output: string } | undefined;
  embeddingSize: number;
  /** Session runs allowed at once in the inference thread (default 1). */
  parallelRuns?: number;
}

export type InferenceReady =
  | {
      type: 'ready';
      provider: 'cpu' | 'cuda';
      embeddingSize: number;
      input: string;
      output: string;
      /** What the session's image input takes: uint8 frames handed over as they are, or float32 normalised in the thread. */
      pixels: PixelFormat;
      fallback?: string;
    }
  | { type: 'init-error'; message: string };

export interface InferenceRequest {
  type: 'run';
  id: number;
  frames: number;
  /** frames × inputSize × inputSize × 3 RGB bytes (transferred). */
  rgb: ArrayBuffer;
}

export type InferenceResponse =
  | {
      type: 'result';
      id: number;
      frames: number;
      embeddingSize: number;
      embeddings: ArrayBuffer;
      /** Inside session.run. */
      inferenceMs: number;
      /** Making the input tensor: normalising in JavaScript (float32 models) or wrapping the bytes (uint8). */
      preprocessMs: number;
      /** Copying and L2-normalising the embeddings. */
      postprocessMs: number;
    }
  | { type: 'error'; id: number; message: string };
