/**
 * Worker thread that owns the image encoder session: preprocessing and
 * inference run here, so the main event loop (and BullMQ's lock renewal)
 * never waits on them. A model with vad's preprocessing folded into its graph
 * (uint8 NHWC input) gets the batch's bytes as they came, a tensor over the
 * transferred buffer: no per-pixel work, no copy. A float32 model gets them
 * normalised in JavaScript (rgbToNchw). Imports only relative modules and
 * onnxruntime-node.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import type { InferenceInit, InferenceReady, InferenceRequest, InferenceResponse } from './inference-protocol.js';
import { type ImageIo, imageIo, imageTensor } from './io-adapter.js';
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

/** Known once the session is loaded; requests only come after the ready message. */
let loadedIo: ImageIo | undefined;

ready.then(
  ({ provider, io }) => {
    loadedIo = io;
    port.postMessage({
      type: 'ready',
      provider,
      embeddingSize: io.embeddingSize,
      input: io.input,
      output: io.output,
      pixels: io.format,
      fallback,
    } satisfies InferenceReady);
  },
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

async function run(request: InferenceRequest, input: ort.Tensor, preprocessMs: number): Promise<void> {
  const { session, io } = await ready;
  const started = performance.now();
  const result = await session.run({ [io.input]: input }, [io.output]);
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
    preprocessMs,
    postprocessMs: performance.now() - started - inferenceMs,
  };
  port.postMessage(response, [data.buffer]);
}

function fail(request: InferenceRequest, error: unknown): void {
  port.postMessage({ type: 'error', id: request.id, message: (error as Error).message } satisfies InferenceResponse);
}

function tensorOf(request: InferenceRequest, io: ImageIo): ort.Tensor {
  // uint8: a tensor over the transferred buffer itself; float32: normalised here (the old path).
  return imageTensor(io.format, new Uint8Array(request.rgb), request.frames, init.inputSize, init.mean, init.std);
}

port.on('message', (request: InferenceRequest) => {
  if (!loadedIo) {
    void ready.then(
      ({ io }) => handle(request, io),
      (error: unknown) => fail(request, error),
    );
    return;
  }
  handle(request, loadedIo);
});

function handle(request: InferenceRequest, io: ImageIo): void {
  let input: ort.Tensor;
  const started = performance.now();
  try {
    input = tensorOf(request, io);
  } catch (error) {
    fail(request, error);
    return;
  }
  const preprocessMs = performance.now() - started;
  void acquire()
    .then(() => run(request, input, preprocessMs))
    .catch((error: unknown) => fail(request, error))
    .finally(release);
}
