/**
 * bench/embed: frames/s of the embed worker's whole path (read segment file,
 * preprocess, cross-job batcher, inference in the worker thread, one INSERT
 * per segment, delete the file), driven by real BullMQ jobs, against bare
 * `session.run` on the same batch size in the same process and run, on the
 * ViT-B/32-architecture benchmark model (random weights, not CLIP).
 *
 *   npm run bench:embed -- [--frames 192] [--provider cpu|cuda] [--batches 1,8,32] [--concurrency 1,2,4]
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSession, getModelSpec, imageIo, resolveModelPaths } from '@vad/clip';
import { type Config, createLogger, hashPipelineConfig } from '@vad/config';
import { buildModel } from '@vad/models';
import { addEmbedJob, addVideoFlow, createQueues, createRedisConnection } from '@vad/queue';
import { pipelineConfigOf, startEmbedWorker } from '@vad/runtime';
import { SegmentStore } from '@vad/storage';
import { createTestConfig, createTestDatabase, createTestRedis, waitFor } from '@vad/testing';
import * as ort from 'onnxruntime-node';
import { bareInferenceFps } from '../lib/baselines.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '192' },
    provider: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,8,32' },
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

const modelDir = args['model-dir'];
try {
  resolveModelPaths(modelDir, MODEL, spec, ['image']);
} catch {
  console.log(`building ${MODEL} into ${modelDir} …`);
  await buildModel(MODEL, modelDir);
}
const modelPath = resolveModelPaths(modelDir, MODEL, spec, ['image']).image;

const db = await createTestDatabase();
const redis = createTestRedis();
const frameBytes = size * size * 3;
const pixels = randomBytes(segmentFrames * frameBytes);

/** Bare onnxruntime: one session, the same batch, already normalised, run back to back. */
async function bare(batch: number): Promise<number> {
  const { session } = await createSession(modelPath, { provider, threads: 0, graphOptimization: 'all' });
  const fps = await bareInferenceFps(
    { session, input: imageIo(session, spec.tensors.image).input, size, mean: spec.mean, std: spec.std },
    batch,
    totalFrames,
  );
  await session.release();
  return fps;
}

/** The embed worker, fed `totalFrames` frames as segments of 64 through real embed jobs. */
async function workerPath(batch: number, concurrency: number): Promise<number> {
  const config: Config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: `{vad-bench-${randomBytes(3).toString('hex')}}`,
    env: {
      VAD_MODEL: MODEL,
      VAD_MODEL_DIR: modelDir,
      VAD_EXECUTION_PROVIDER: provider,
      VAD_BATCH_SIZE: String(batch),
      VAD_EMBED_CONCURRENCY: String(concurrency),
      VAD_SEGMENT_FRAMES: String(segmentFrames),
      VAD_INFERENCE_PARALLEL_RUNS: args['parallel-runs'],
    },
  });
  const connection = createRedisConnection(redis.url, 'worker');
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
  // Warm-up outside the measurement, as bare gets: one full batch through the same thread.
  await worker.batcher.embed(pixels.subarray(0, batch * frameBytes), batch);
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
  const rows = (await db.repos.frameEmbeddings.listFrames(video.id, MODEL)).length;
  if (rows !== count * segmentFrames) throw new Error(`expected ${count * segmentFrames} rows, found ${rows}`);
  await worker.close();
  await queues.ingest.obliterate({ force: true });
  await queues.close();
  connection.disconnect();
  return (count * segmentFrames) / seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const batchRows: string[] = [];
const concurrencyRows: string[] = [];
try {
  for (const batch of args.batches.split(',').map(Number)) {
    // Interleaved and repeated: this machine's speed drifts by ±10% from minute to minute.
    const bareRuns: number[] = [];
    const workerRuns: number[] = [];
    for (let r = 0; r < Number(args.runs); r++) {
      bareRuns.push(await bare(batch));
      workerRuns.push(await workerPath(batch, 4));
    }
    const bareFps = median(bareRuns);
    const workerFps = median(workerRuns);
    const row = `| ${batch} | ${bareFps.toFixed(1)} | ${workerFps.toFixed(1)} | ${((workerFps / bareFps) * 100).toFixed(0)}% |`;
    console.log(row);
    batchRows.push(row);
  }
  const largest = Math.max(...args.batches.split(',').map(Number));
  for (const concurrency of args.concurrency.split(',').map(Number)) {
    const fps = await workerPath(largest, concurrency);
    const row = `| ${concurrency} | ${largest} | ${fps.toFixed(1)} |`;
    console.log(row);
    concurrencyRows.push(row);
  }
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim()}, provider ${provider}, onnxruntime-node ${ort.env.versions.common}; ${MODEL} (ViT-B/32 architecture, random weights, not CLIP); ${totalFrames} frames per measurement as segments of ${segmentFrames}; batch rows: median of ${args.runs} interleaved runs, 4 concurrent jobs.`,
    '',
    '| batch | bare session.run (frames/s) | embed worker path (frames/s) | worker / bare |',
    '| --- | --- | --- | --- |',
    ...batchRows,
    '',
    '| concurrent jobs | batch | embed worker path (frames/s) |',
    '| --- | --- | --- |',
    ...concurrencyRows,
    '',
  ].join('\n');
  await writeFile(join(import.meta.dirname, '..', 'results', `embed-${provider}.md`), report);
  console.log(`\n${report}`);
} finally {
  await Promise.all([db.destroy(), redis.destroy()]);
}
