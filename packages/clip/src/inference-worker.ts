/**
 * Worker thread that owns the image encoder session: preprocessing and
 * inference run here, so the main event loop (and BullMQ's lock renewal)
 * never waits on them. Imports only relative modules and onnxruntime-node.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { InferenceInit, InferenceReady, InferenceRequest, InferenceResponse } from './inference-protocol.js';
import { imageIo } from './io-adapter.js';
import { rgbToNchw } from './preprocess.js';
import { createSession } from './session.js';
import { l2Normalize } from './vector.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port: MessagePort = parentPort;
const init = workerData as InferenceInit;

let fallback: string | undefined;
const ready = createSession(init.modelPath, {
  provider: init.provider,
  threads: init.threads,
  graphOptimization: init.graphOptimization,
  onFallback: (reason) => {
    fallback = reason;
  },
}).then(({ session, provider }) => ({ session, provider, io: imageIo(session, init.names, init.embeddingSize) }));

ready.then(
  ({ provider, io }) =>
    port.postMessage({
      type: 'ready',
      provider,
      embeddingSize: io.embeddingSize,
      input: io.input,
      output: io.output,
      fallback,
    } satisfies InferenceReady),
  (error: unknown) =>
    port.postMessage({ type: 'init-error', message: (error as Error).message } satisfies InferenceReady),
);

/**
 * At most `parallelRuns` session runs at once (1 = strictly one after
 * another); a batch is preprocessed as soon as it arrives, while earlier ones
 * are still running.
 */
const slots = Math.max(1, init.parallelRuns ?? 1);
let running = 0;
const waiting: (() => void)[] = [];
async function acquire(): Promise<void> {
  if (running < slots) {
    running += 1;
    return;
  }
  await new Promise<void>((resolve) => waiting.push(resolve));
}
function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running -= 1;
}

async function run(request: InferenceRequest, input: Float32Array): Promise<void> {
  const { session, io } = await ready;
  const size = init.inputSize;
  const started = performance.now();
  const result = await session.run({ [io.input]: new ort.Tensor('float32', input, [request.frames, 3, size, size]) }, [
    io.output,
  ]);
  const inferenceMs = performance.now() - started;
  const tensor = result[io.output];
  if (!tensor) throw new Error(`the image encoder gave no ${io.output}`);
  const embeddingSize = tensor.dims.at(-1) ?? io.embeddingSize;
  const data = new Float32Array(tensor.data as Float32Array);
  for (let r = 0; r < request.frames; r++) l2Normalize(data.subarray(r * embeddingSize, (r + 1) * embeddingSize));
  tensor.dispose();
  const response: InferenceResponse = {
    type: 'result',
    id: request.id,
    frames: request.frames,
    embeddingSize,
    embeddings: data.buffer,
    inferenceMs,
  };
  port.postMessage(response, [data.buffer]);
}

function fail(request: InferenceRequest, error: unknown): void {
  port.postMessage({ type: 'error', id: request.id, message: (error as Error).message } satisfies InferenceResponse);
}

port.on('message', (request: InferenceRequest) => {
  let input: Float32Array;
  try {
    input = rgbToNchw(new Uint8Array(request.rgb), request.frames, init.inputSize, init.mean, init.std);
  } catch (error) {
    fail(request, error);
    return;
  }
  void acquire()
    .then(() => run(request, input))
    .catch((error: unknown) => fail(request, error))
    .finally(release);
});
