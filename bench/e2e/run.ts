/**
 * bench/e2e: a generated 1080p25 video through all three workers (`vad
 * workers`, one process) with the ViT-B/32-architecture benchmark model
 * (random weights, not CLIP), as video-seconds per wall-second (RTF), beside
 *  - the bound from the same run: 1 / (1/decodeRTF + sampleFps/embedFps),
 *    with decodeRTF from plain ffmpeg (same filter, -f null) and embedFps
 *    from bare session.run at batch 32;
 *  - a naive baseline as the seed did it: ffmpeg writes the sampled frames as
 *    JPEG files, then each image is loaded, preprocessed and encoded alone.
 *
 *   npm run bench:e2e -- [--duration 600]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSession, getModelSpec, imageFileToRgb, imageIo, imageTensor } from '@vad/clip';
import { VIDEO_STATUSES } from '@vad/db';
import { configToEnv, waitFor } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { bareInferenceFps, plainDecodeSeconds } from '../lib/baselines.js';
import { createBenchPipeline, ensureBenchModel } from '../lib/bench-pipeline.js';
import { benchVideo } from '../lib/bench-video.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    'model-dir': { type: 'string', default: join(import.meta.dirname, '..', '.cache', 'models') },
  },
});
const durationS = Number(args.duration);
const MODEL = 'vad-bench-vitb32';
const spec = getModelSpec(MODEL);
const size = spec.inputSize;
const modelDir = args['model-dir'];
const root = join(import.meta.dirname, '..', '..');
const binaries = resolveFfmpegBinaries();
const sampleFps = 2;

const modelPath = await ensureBenchModel(MODEL, modelDir);
const video = await benchVideo({ width: 1920, height: 1080, fps: 25, durationS });
const session = async () => createSession(modelPath, { provider: 'cpu', threads: 0, graphOptimization: 'all' });

function run(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

// 1. Plain ffmpeg decode with vad's filter, output to nowhere; 2. bare onnxruntime at batch 32.
const decodeRtf = durationS / (await plainDecodeSeconds(video, sampleFps, size, binaries));
const bare = await session();
const io = imageIo(bare.session, spec.tensors.image);
const embedFps = await bareInferenceFps(
  { session: bare.session, input: io.input, size, mean: spec.mean, std: spec.std },
  32,
  128,
);
const boundRtf = 1 / (1 / decodeRtf + sampleFps / embedFps);
console.log({ decodeRtf, embedFps, boundRtf });

// 3. vad: all workers in one process, submit, wait for `done`.
const { db, redis, config } = await createBenchPipeline(MODEL, modelDir, spec.embeddingSize);
const env = { ...process.env, ...configToEnv(config), VAD_LOG_LEVEL: 'warn' };
const workers = spawn(
  process.execPath,
  ['--conditions=vad-source', '--import', 'tsx', join(root, 'apps/cli/src/main.ts'), 'workers'],
  { env, stdio: ['ignore', 'inherit', 'inherit'] },
);
let vadS = 0;
try {
  await new Promise((r) => setTimeout(r, 5_000)); // model load is start-up, not throughput
  vadS = await timed(async () => {
    await run(
      process.execPath,
      ['--conditions=vad-source', '--import', 'tsx', join(root, 'apps/cli/src/main.ts'), 'submit', video],
      env,
    ).catch(() => {});
    const [row] = await db.repos.videos.listByStatus([...VIDEO_STATUSES]);
    if (!row) throw new Error('the video was not submitted');
    const done = await waitFor(
      'done',
      () => db.repos.videos.get(row.id),
      (v) => v?.status === 'done' || v?.status === 'failed',
      7_200_000,
      500,
    );
    if (done?.status !== 'done') throw new Error(`vad failed: ${done?.error}`);
  });
} finally {
  workers.kill('SIGTERM');
  await new Promise((r) => workers.once('exit', r));
  await Promise.all([db.destroy(), redis.destroy()]);
}
const vadRtf = durationS / vadS;

// 4. Naive: sampled frames to JPEG files, then one image at a time.
const frames = mkdtempSync(join(tmpdir(), 'vad-naive-'));
const naiveS = await timed(async () => {
  await run(binaries.ffmpeg, [
    '-nostdin',
    '-loglevel',
    'error',
    '-i',
    video,
    '-an',
    '-vf',
    `fps=${sampleFps}`,
    '-q:v',
    '2',
    join(frames, '%06d.jpg'),
  ]);
  for (const name of (await readdir(frames)).sort()) {
    const rgb = await imageFileToRgb(join(frames, name), size);
    await bare.session.run({ [io.input]: imageTensor(io.format, rgb, 1, size, spec.mean, spec.std) });
  }
});
await rm(frames, { recursive: true, force: true });
const naiveRtf = durationS / naiveS;

const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim()} (CPU only), a ${durationS} s 1080p25 camera-like H.264 file, ${MODEL} (ViT-B/32 architecture, random weights, not CLIP), sampleFps ${sampleFps}, batch 32. RTF = video-seconds per wall-second.`,
  '',
  '| plain ffmpeg decode RTF | bare onnxruntime (frames/s) | bound RTF | vad, all workers, RTF | vad / bound | naive baseline RTF | vad / naive |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  `| ${decodeRtf.toFixed(2)} | ${embedFps.toFixed(1)} | ${boundRtf.toFixed(2)} | ${vadRtf.toFixed(2)} | ${((vadRtf / boundRtf) * 100).toFixed(0)}% | ${naiveRtf.toFixed(2)} | ${(vadRtf / naiveRtf).toFixed(2)}× |`,
  '',
].join('\n');
await writeFile(join(import.meta.dirname, '..', 'results', 'e2e-cpu.md'), report);
console.log(`\n${report}`);
await bare.session.release();
