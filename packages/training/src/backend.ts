import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * tfjs backends that need no native build or download: `wasm` (XNNPACK,
 * SIMD; its .wasm files ship inside the npm package and are read from
 * there) and `cpu` (plain JavaScript). bench/train measures both; wasm is
 * the default, being the faster on a 2-core machine.
 */
export type TrainingBackend = 'wasm' | 'cpu';
export const TRAINING_BACKENDS: readonly TrainingBackend[] = ['wasm', 'cpu'];

let wasmPathsSet = false;

/** Makes `name` the tfjs backend (once per process; later calls switch). Returns the backend in use. */
export async function useBackend(name: TrainingBackend): Promise<TrainingBackend> {
  // Production mode: no debug checks, and no "install tfjs-node" banner on stderr.
  tf.enableProdMode();
  if (name === 'wasm' && !wasmPathsSet) {
    // The package's own folder, on disk: nothing is fetched.
    setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    wasmPathsSet = true;
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`the tfjs ${name} backend did not start`);
  }
  await tf.ready();
  return name;
}

export { tf };
