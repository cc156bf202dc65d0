import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InferenceInit, InferenceReady, InferenceRequest, InferenceResponse } from './inference-protocol.js';
import { type ImageModelChoice, selectImageModel, unfoldedNotice } from './model-fold.js';

export interface ImageBatcherOptions extends InferenceInit {
  /** Frames per onnxruntime run; unset = 32 on the CPU, 256 on CUDA (known once the session is loaded). */
  batchSize?: number | undefined;
  /** How long a partial batch waits for more frames before it runs anyway. */
  maxWaitMs: number;
  /** Batches handed to the worker thread at once (the next is ready while one runs). */
  maxInFlight?: number;
  /** The model's name, for messages (the command that folds it). */
  model?: string | undefined;
  /**
   * Load the folded model beside `modelPath` when there is an up-to-date one
   * (default true); false loads `modelPath` as it is.
   */
  preferFolded?: boolean | undefined;
}

interface Pending {
  rgb: Uint8Array;
  frames: number;
  /** Frames handed to batches so far. */
  taken: number;
  done: number;
  results: Float32Array[];
  failed: boolean;
  resolve(embeddings: Float32Array[]): void;
  reject(error: Error): void;
  onBatch: ((batchSize: number) => void) | undefined;
}

interface Piece {
  request: Pending;
  from: number;
  count: number;
}

interface Batch {
  pieces: Piece[];
  frames: number;
}

export interface BatcherStats {
  batches: number;
  frames: number;
  /** Sizes of the batches run, newest last (the last 1000). */
  recentBatchSizes: number[];
  inferenceMs: number;
  /** Time the inference thread spent making input tensors (normalising frames, for a float32 model). */
  preprocessMs: number;
  /** Time it spent copying and normalising embeddings. */
  postprocessMs: number;
}

function workerSource(): string {
  // From TypeScript sources (tests, tsx) the worker needs tsx's loader; from dist/ it is plain JS.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const target = JSON.stringify(new URL(`./inference-worker${ext}`, import.meta.url).href);
  if (ext === '.js') return `import(${target})`;
  const tsx = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/index\.cjs$/, 'index.mjs');
  return `import(${JSON.stringify(pathToFileURL(tsx).href)}).then(({ register }) => { register(); return import(${target}); })`;
}

/**
 * One per process: merges frames from concurrently processed jobs into
 * batches of up to `batchSize`, runs them in a worker thread, and hands each
 * caller its own frames' L2-normalised embeddings. A partial batch runs after
 * `maxWaitMs`. If a merged batch fails, its jobs are retried one by one, so
 * one bad job fails alone. It loads the model's folded file (preprocessing in
 * the graph, uint8 frames in) when there is an up-to-date one beside
 * `modelPath` (selectImageModel); a model that takes float32 pixels still
 * works, its frames normalised in the worker thread, and `notice` says how to
 * fold it.
 */
export class ImageBatcher {
  readonly stats: BatcherStats = {
    batches: 0,
    frames: 0,
    recentBatchSizes: [],
    inferenceMs: 0,
    preprocessMs: 0,
    postprocessMs: 0,
  };
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<number, { batch: Batch; isolated: boolean }>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly frameBytes: number;
  readonly batchSize: number;

  /**
   * What to tell the operator about the model loaded, if anything: that it
   * takes float32 pixels (frames normalised in JavaScript) and how to fold it,
   * or why a folded file beside it was not used.
   */
  readonly notice: string | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly options: ImageBatcherOptions,
    readonly ready: Extract<InferenceReady, { type: 'ready' }>,
    /** The file loaded, and whether it is the model itself, its folded file or its float32 original. */
    readonly loaded: ImageModelChoice,
  ) {
    this.frameBytes = options.inputSize * options.inputSize * 3;
    this.batchSize = options.batchSize ?? (ready.provider === 'cuda' ? 256 : 32);
    this.notice =
      ready.pixels === 'float32-nchw'
        ? [loaded.notice, unfoldedNotice(options.model, loaded.path)].filter(Boolean).join('; ')
        : loaded.notice;
    worker.on('message', (message: InferenceResponse) => this.onResponse(message));
    worker.on('error', (error) => this.failAll(error));
  }

  static async start(options: ImageBatcherOptions): Promise<ImageBatcher> {
    const { batchSize, maxWaitMs, maxInFlight, model, preferFolded, ...init } = options;
    const loaded: ImageModelChoice =
      preferFolded === false
        ? { path: init.modelPath, kind: 'original' }
        : await selectImageModel(init.modelPath, { mean: init.mean, std: init.std, size: init.inputSize }, model);
    const workerData: InferenceInit = { ...init, modelPath: loaded.path };
    const worker = new Worker(workerSource(), { eval: true, workerData });
    const ready = await new Promise<InferenceReady>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`inference worker exited with code ${code} during start`)));
    });
    if (ready.type === 'init-error') {
      await worker.terminate();
      throw new Error(ready.message);
    }
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return new ImageBatcher(worker, options, ready, loaded);
  }

  get provider(): 'cpu' | 'cuda' {
    return this.ready.provider;
  }

  /** `graph` when the model normalises frames itself (uint8 input), `js` when the inference thread does. */
  get preprocessing(): 'graph' | 'js' {
    return this.ready.pixels === 'uint8-nhwc' ? 'graph' : 'js';
  }

  get embeddingSize(): number {
    return this.ready.embeddingSize;
  }

  /**
   * Embeds `frames` RGB frames (HWC, inputSize², one after another); resolves
   * with one unit vector per frame. `onBatch` hears the size of each
   * inference batch that carried some of these frames.
   */
  embed(rgb: Uint8Array, frames: number, onBatch?: (batchSize: number) => void): Promise<Float32Array[]> {
    if (this.closed) return Promise.reject(new Error('the image batcher is closed'));
    if (frames < 1 || rgb.length !== frames * this.frameBytes) {
      return Promise.reject(
        new Error(
          `expected ${frames} frames of ${this.options.inputSize}x${this.options.inputSize} RGB (${frames * this.frameBytes} bytes), got ${rgb.length} bytes`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        rgb,
        frames,
        taken: 0,
        done: 0,
        results: new Array(frames),
        failed: false,
        resolve,
        reject,
        onBatch,
      });
      this.schedule();
    });
  }

  private queuedFrames(): number {
    return this.queue.reduce((sum, p) => sum + p.frames - p.taken, 0);
  }

  private schedule(): void {
    const maxInFlight = this.options.maxInFlight ?? 2;
    while (this.inFlight.size < maxInFlight && this.queuedFrames() >= this.batchSize) {
      this.dispatch(this.takeBatch(this.batchSize), false);
    }
    if (this.queuedFrames() > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.inFlight.size < maxInFlight && this.queuedFrames() > 0)
          this.dispatch(this.takeBatch(this.batchSize), false);
        this.schedule();
      }, this.options.maxWaitMs);
    }
  }

  private takeBatch(limit: number): Batch {
    const pieces: Piece[] = [];
    let frames = 0;
    while (frames < limit && this.queue.length) {
      const request = this.queue[0] as Pending;
      const count = Math.min(limit - frames, request.frames - request.taken);
      pieces.push({ request, from: request.taken, count });
      request.taken += count;
      frames += count;
      if (request.taken === request.frames) this.queue.shift();
    }
    return { pieces, frames };
  }

  private dispatch(batch: Batch, isolated: boolean): void {
    const rgb = new Uint8Array(batch.frames * this.frameBytes);
    let offset = 0;
    for (const piece of batch.pieces) {
      rgb.set(
        piece.request.rgb.subarray(piece.from * this.frameBytes, (piece.from + piece.count) * this.frameBytes),
        offset,
      );
      offset += piece.count * this.frameBytes;
    }
    const id = this.nextId++;
    this.inFlight.set(id, { batch, isolated });
    const request: InferenceRequest = { type: 'run', id, frames: batch.frames, rgb: rgb.buffer };
    this.worker.postMessage(request, [rgb.buffer]);
  }

  private onResponse(message: InferenceResponse): void {
    const entry = this.inFlight.get(message.id);
    if (!entry) return;
    this.inFlight.delete(message.id);
    const { batch, isolated } = entry;
    if (message.type === 'error') {
      const requests = [...new Set(batch.pieces.map((p) => p.request))];
      if (!isolated && requests.length > 1) {
        // Retry each job's frames on their own, so only the job at fault fails.
        for (const piece of batch.pieces) this.dispatch({ pieces: [piece], frames: piece.count }, true);
      } else {
        for (const request of requests) this.fail(request, new Error(`image encoder failed: ${message.message}`));
      }
    } else {
      this.stats.batches += 1;
      this.stats.frames += message.frames;
      this.stats.inferenceMs += message.inferenceMs;
      this.stats.preprocessMs += message.preprocessMs;
      this.stats.postprocessMs += message.postprocessMs;
      this.stats.recentBatchSizes.push(message.frames);
      if (this.stats.recentBatchSizes.length > 1000) this.stats.recentBatchSizes.shift();
      const all = new Float32Array(message.embeddings);
      let row = 0;
      for (const piece of batch.pieces) {
        const { request } = piece;
        for (let i = 0; i < piece.count; i++, row++) {
          request.results[piece.from + i] = all.subarray(
            row * message.embeddingSize,
            (row + 1) * message.embeddingSize,
          );
        }
        request.done += piece.count;
        request.onBatch?.(message.frames);
        if (request.done === request.frames && !request.failed) request.resolve(request.results);
      }
    }
    this.schedule();
  }

  private fail(request: Pending, error: Error): void {
    if (request.failed) return;
    request.failed = true;
    const index = this.queue.indexOf(request);
    if (index >= 0) this.queue.splice(index, 1);
    request.reject(error);
  }

  private failAll(error: Error): void {
    for (const { batch } of this.inFlight.values()) for (const piece of batch.pieces) this.fail(piece.request, error);
    this.inFlight.clear();
    for (const request of [...this.queue]) this.fail(request, error);
  }

  /** Waits for queued work, then stops the worker thread. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length || this.inFlight.size) await new Promise((r) => setTimeout(r, 10));
    if (this.timer) clearTimeout(this.timer);
    await this.worker.terminate();
  }
}
