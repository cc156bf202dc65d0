/**
 * bench/embed: frames/s of the embed worker's whole path (read segment file,
 * cross-job batcher, tensor making and inference in the worker thread, one
 * INSERT per segment, delete the file), driven by real BullMQ jobs, against
 * bare `session.run` on the same model, batch size and input in the same
 * process and run, on the ViT-B/32-architecture benchmark model (random
 * weights, not CLIP).
 *
 * Two builds of that model, the same weights: the one vad builds, which takes
 * the frames' uint8 RGB bytes and normalises them in its graph (preprocessing
 * folded in: the worker hands the bytes over as they are), and the float32
 * NCHW variant an export has before it is folded (the worker normalises every
 * pixel in JavaScript, rgbToNchw). Side by side: throughput of both paths, the
 * preprocessing cost per frame, and the share of the inference thread's time
 * spent outside session.run.
 *
 *   npm run embed -w @vad/bench -- [--frames 192] [--provider cpu|cuda] [--batches 1,8,32] [--concurrency 1,2,4] [--runs 3]
 *
 * A short run (the figures in bench/results/embed-cpu.md): --batches 32 --concurrency '' --runs 5 --frames 256.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BatcherStats,
  createSession,
  getModelSpec,
  imageTensor,
  pixelFormat,
  readPreprocessing,
  resolveModelPaths,
  rgbToNchw,
} from '@vad/clip';
import { type Config, createLogger, hashPipelineConfig } from '@vad/config';
import { buildModel, buildVitImageModel, VIT_B32 } from '@vad/models';
import { addEmbedJob, addVideoFlow, createQueues, queueConnectionOf } from '@vad/queue';
import { pipelineConfigOf, startEmbedWorker } from '@vad/runtime';
import { SegmentStore } from '@vad/storage';
import { createTestConfig, createTestDatabase, createTestRedis, waitFor } from '@vad/testing';
import * as ort from 'onnxruntime-node';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '192' },
    provider: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,8,32' },
    /** Job concurrencies measured on the uint8 path at the largest batch; empty: none. */
    concurrency: { type: 'string', default: '1,2,4' },
    'parallel-runs': { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    'model-dir': { type: 'string', default: join(import.meta.dirname, '..', '.cache', 'models') },
  },
});
const MODEL = 'vad-bench-vitb32';
const totalFrames = Number(args.frames);
const provider = args.provider as 'cpu' | 'cuda';
const spec = getModelSpec(MODEL);
const size = spec.inputSize;
const segmentFrames = 64;
const logger = createLogger({ log: { level: 'silent' } }, 'bench');
const list = (text: string) => text.split(',').filter(Boolean).map(Number);

/** The model folders: vad's build (uint8 input), and beside it the float32 variant under the same name. */
const modelDirs = { uint8: args['model-dir'], float32: join(args['model-dir'], 'float32') };
type Path = keyof typeof modelDirs;

async function ensureModels(): Promise<Record<Path, string>> {
  const paths = {} as Record<Path, string>;
  for (const path of ['uint8', 'float32'] as const) {
    const dir = modelDirs[path];
    const file = join(dir, MODEL, spec.files.image.path);
    const folded = existsSync(file) ? await readPreprocessing(file).catch(() => undefined) : undefined;
    // A cache from before vad built it with uint8 input has the float32 model: build it again.
    if (!existsSync(file) || (path === 'uint8') !== (folded !== undefined)) {
      console.log(`building ${MODEL} (${path} input) into ${dir} …`);
      if (path === 'uint8') await buildModel(MODEL, dir);
      else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, buildVitImageModel(VIT_B32, 32, { input: 'float32' }).bytes); // buildModel's seed
      }
    }
    paths[path] = resolveModelPaths(dir, MODEL, spec, ['image']).image;
  }
  return paths;
}
const modelPaths = await ensureModels();

const db = await createTestDatabase();
const redis = createTestRedis();
const frameBytes = size * size * 3;
const pixels = randomBytes(segmentFrames * frameBytes);

/** Bare onnxruntime: one session, the same batch ready to run (the bytes, or normalised once), back to back. */
async function bare(batch: number, path: Path): Promise<number> {
  const { session } = await createSession(modelPaths[path], { provider, threads: 0, graphOptimization: 'all' });
  const input = session.inputNames[0] as string;
  const tensor = imageTensor(
    pixelFormat(session, input),
    randomBytes(batch * frameBytes),
    batch,
    size,
    spec.mean,
    spec.std,
  );
  await session.run({ [input]: tensor }); // warm-up
  const runs = Math.max(1, Math.round(totalFrames / batch));
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run({ [input]: tensor });
  const fps = (runs * batch) / ((performance.now() - started) / 1000);
  await session.release();
  return fps;
}

interface WorkerRun {
  fps: number;
  /** The inference thread's time during the measurement, per frame (ms). */
  preprocess: number;
  inference: number;
  postprocess: number;
  /** Share of the measurement's wall time that session.run was running. */
  busy: number;
}

/** The embed worker, fed `totalFrames` frames as segments of 64 through real embed jobs. */
async function workerPath(batch: number, concurrency: number, path: Path): Promise<WorkerRun> {
  const config: Config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: `{vad-bench-${randomBytes(3).toString('hex')}}`,
    env: {
      VAD_MODEL: MODEL,
      VAD_MODEL_DIR: modelDirs[path],
      VAD_EXECUTION_PROVIDER: provider,
      VAD_BATCH_SIZE: String(batch),
      VAD_EMBED_CONCURRENCY: String(concurrency),
      VAD_SEGMENT_FRAMES: String(segmentFrames),
      VAD_INFERENCE_PARALLEL_RUNS: args['parallel-runs'],
    },
  });
  const connection = queueConnectionOf(config, 'worker');
  const queues = createQueues(config, connection);
  const segments = new SegmentStore(config.storage.root);
  const { video } = await db.repos.videos.insertOrGet({
    sourceUri: 'bench',
    sha256: randomBytes(32).toString('hex'),
    bytes: 1,
    model: MODEL,
    pipelineConfig: pipelineConfigOf(config),
    configHash: hashPipelineConfig(pipelineConfigOf(config)),
  });
  await addVideoFlow(queues, config, video.id); // the parent the embed jobs report to
  const count = Math.ceil(totalFrames / segmentFrames);
  for (let s = 0; s < count; s++) {
    const frames = Array.from({ length: segmentFrames }, (_, i) => ({
      index: s * segmentFrames + i,
      ptsMs: (s * segmentFrames + i) * 500,
    }));
    await segments.write(
      { videoId: video.id, segmentIndex: s, width: size, height: size, frames },
      frames.map((_, i) => pixels.subarray(i * frameBytes, (i + 1) * frameBytes)),
    );
  }
  const worker = await startEmbedWorker(config, logger);
  const expected = path === 'uint8' ? 'graph' : 'js';
  if (worker.batcher.preprocessing !== expected)
    throw new Error(`the ${path} model was loaded with preprocessing ${worker.batcher.preprocessing}`);
  // Warm-up outside the measurement, as bare gets: one full batch through the same thread.
  await worker.batcher.embed(pixels.subarray(0, batch * frameBytes), batch);
  const before: BatcherStats = { ...worker.batcher.stats };
  const started = performance.now();
  for (let s = 0; s < count; s++) {
    await addEmbedJob(queues, {
      videoId: video.id,
      segmentIndex: s,
      firstFrameIndex: s * segmentFrames,
      frameCount: segmentFrames,
      model: MODEL,
    });
  }
  await waitFor(
    'segments embedded',
    async () => (await queues.embed.getJobCounts('completed')).completed,
    (n) => n === count,
    3_600_000,
    20,
  );
  const seconds = (performance.now() - started) / 1000;
  const after = worker.batcher.stats;
  const frames = after.frames - before.frames;
  const rows = (await db.repos.frameEmbeddings.listFrames(video.id, MODEL)).length;
  if (rows !== count * segmentFrames) throw new Error(`expected ${count * segmentFrames} rows, found ${rows}`);
  await worker.close();
  await queues.ingest.obliterate({ force: true });
  await queues.close();
  await connection.close();
  return {
    fps: (count * segmentFrames) / seconds,
    preprocess: (after.preprocessMs - before.preprocessMs) / frames,
    inference: (after.inferenceMs - before.inferenceMs) / frames,
    postprocess: (after.postprocessMs - before.postprocessMs) / frames,
    busy: (after.inferenceMs - before.inferenceMs) / (seconds * 1000),
  };
}

/** rgbToNchw alone on an idle thread: the per-pixel loop the uint8 path no longer runs (ms per frame). */
function jsPreprocessAlone(batch: number): number {
  const rgb = randomBytes(batch * frameBytes);
  const out = new Float32Array(batch * 3 * size * size);
  rgbToNchw(rgb, batch, size, spec.mean, spec.std, out); // warm-up (JIT)
  const repeats = 10;
  const started = performance.now();
  for (let i = 0; i < repeats; i++) rgbToNchw(rgb, batch, size, spec.mean, spec.std, out);
  return (performance.now() - started) / repeats / batch;
}

/** The same for the uint8 path: a tensor over the bytes (ms per frame). */
function uint8HandoffAlone(batch: number): number {
  const rgb = new Uint8Array(randomBytes(batch * frameBytes));
  const repeats = 1000;
  const started = performance.now();
  for (let i = 0; i < repeats; i++) imageTensor('uint8-nhwc', rgb, batch, size, spec.mean, spec.std);
  return (performance.now() - started) / repeats / batch;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const medianRun = (runs: WorkerRun[]): WorkerRun => ({
  fps: median(runs.map((r) => r.fps)),
  preprocess: median(runs.map((r) => r.preprocess)),
  inference: median(runs.map((r) => r.inference)),
  postprocess: median(runs.map((r) => r.postprocess)),
  busy: median(runs.map((r) => r.busy)),
});
const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
const ms = (x: number) => (x < 0.01 ? x.toExponential(1) : x.toFixed(2));
const outside = (r: WorkerRun) => (r.preprocess + r.postprocess) / (r.preprocess + r.inference + r.postprocess);

const throughputRows: string[] = [];
const threadRows: string[] = [];
const concurrencyRows: string[] = [];
const spreadRows: string[] = [];
try {
  const batches = list(args.batches);
  for (const batch of batches) {
    // Interleaved and repeated: this machine's speed drifts by ±10% from minute to minute.
    const runs = {
      bareUint8: [] as number[],
      bareFloat: [] as number[],
      uint8: [] as WorkerRun[],
      float32: [] as WorkerRun[],
    };
    for (let r = 0; r < Number(args.runs); r++) {
      runs.bareUint8.push(await bare(batch, 'uint8'));
      runs.uint8.push(await workerPath(batch, 4, 'uint8'));
      runs.bareFloat.push(await bare(batch, 'float32'));
      runs.float32.push(await workerPath(batch, 4, 'float32'));
      console.log(
        `batch ${batch} run ${r + 1}: bare uint8 ${runs.bareUint8.at(-1)?.toFixed(1)}, worker uint8 ${runs.uint8.at(-1)?.fps.toFixed(1)}, bare float32 ${runs.bareFloat.at(-1)?.toFixed(1)}, worker float32 ${runs.float32.at(-1)?.fps.toFixed(1)} frames/s`,
      );
    }
    const ratios = (worker: WorkerRun[], bareRuns: number[]) =>
      worker.map((w, i) => pct(w.fps / (bareRuns[i] as number))).join(', ');
    spreadRows.push(
      `Batch ${batch}, worker / bare of each run in order: uint8 ${ratios(runs.uint8, runs.bareUint8)}; float32 ${ratios(runs.float32, runs.bareFloat)}.`,
    );
    const bareUint8 = median(runs.bareUint8);
    const bareFloat = median(runs.bareFloat);
    const uint8 = medianRun(runs.uint8);
    const float32 = medianRun(runs.float32);
    throughputRows.push(
      `| ${batch} | ${bareUint8.toFixed(1)} | ${uint8.fps.toFixed(1)} | **${pct(uint8.fps / bareUint8)}** | ${bareFloat.toFixed(1)} | ${float32.fps.toFixed(1)} | ${pct(float32.fps / bareFloat)} |`,
    );
    threadRows.push(
      `| ${batch} | float32 (rgbToNchw, before) | ${ms(float32.preprocess)} | ${ms(float32.postprocess)} | ${ms(float32.inference)} | ${pct(outside(float32))} | ${pct(float32.busy)} |`,
      `| ${batch} | uint8 (handoff, now) | ${ms(uint8.preprocess)} | ${ms(uint8.postprocess)} | ${ms(uint8.inference)} | ${pct(outside(uint8))} | ${pct(uint8.busy)} |`,
    );
    console.log(throughputRows.at(-1));
    console.log(threadRows.slice(-2).join('\n'));
  }
  const largest = Math.max(...batches);
  for (const concurrency of list(args.concurrency)) {
    const { fps } = await workerPath(largest, concurrency, 'uint8');
    const row = `| ${concurrency} | ${largest} | ${fps.toFixed(1)} |`;
    console.log(row);
    concurrencyRows.push(row);
  }
  const alone = { js: jsPreprocessAlone(32), uint8: uint8HandoffAlone(32) };
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim()}, provider ${provider}, onnxruntime-node ${ort.env.versions.common}; ${MODEL} (ViT-B/32 architecture, random weights, not CLIP); ${totalFrames} frames per measurement as segments of ${segmentFrames}, 4 concurrent jobs; median of ${args.runs} interleaved runs. Command: \`npm run embed -w @vad/bench -- ${process.argv.slice(2).join(' ')}\`.`,
    '',
    "Two builds of the model with the same weights: **uint8**, what vad builds (and what `vad models fold` makes of an export): the frames' RGB bytes in, normalisation (÷255, mean/std, channels first) in the graph, the worker hands the bytes over as they are; **float32**, an export before it is folded: the inference thread normalises every pixel in JavaScript (rgbToNchw). Bare `session.run` gets its batch ready to run (the bytes; or normalised once, outside the timing).",
    '',
    '| batch | bare session.run, uint8 model (frames/s) | embed worker, uint8 (frames/s) | worker / bare | bare session.run, float32 model (frames/s) | embed worker, float32 (frames/s) | worker / bare |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...throughputRows,
    '',
    ...spreadRows,
    '',
    "The inference thread's time per frame (ms) during the measurement: making the input tensor, copying and L2-normalising the embeddings, and inside `session.run`; the share outside `session.run` is what a faster accelerator cannot shorten. Last column: the share of the measurement's wall time during which `session.run` was running (what is left is the pipeline's own idle time: job pickup, the first batch's wait, the last INSERT).",
    '',
    '| batch | path | input tensor (ms/frame) | embeddings out (ms/frame) | session.run (ms/frame) | outside session.run | session.run busy / wall |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...threadRows,
    '',
    `On an otherwise idle thread, batch 32: rgbToNchw ${alone.js.toFixed(3)} ms per frame (${(1000 / alone.js).toFixed(0)} frames/s at most on one thread, whatever the accelerator; beside a running session.run it took the time in the table above); the uint8 handoff (a tensor over the bytes, no copy) ${alone.uint8.toExponential(1)} ms per frame.`,
    '',
    ...(concurrencyRows.length
      ? [
          '| concurrent jobs | batch | embed worker path, uint8 (frames/s) |',
          '| --- | --- | --- |',
          ...concurrencyRows,
          '',
        ]
      : []),
  ].join('\n');
  await writeFile(join(import.meta.dirname, '..', 'results', `embed-${provider}.md`), report);
  console.log(`\n${report}`);
} finally {
  await Promise.all([db.destroy(), redis.destroy()]);
}
