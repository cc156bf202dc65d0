/**
 * bench/ingest: ingest throughput (video-seconds per wall-second) of the real
 * ingest worker process (probe, decode, segment files, embed jobs, Postgres
 * progress) against plain ffmpeg decoding with the same sampling/resize/crop
 * filter and output to nowhere, side by side in one run.
 *
 *   npm run bench:ingest -- [--duration 60] [--runs 3] [--long 600]
 *
 * --long N adds an N-second 1080p25 video, run once, reporting the worker's
 * and ffmpeg's peak RSS and when the first segment was queued.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '@vad/config';
import { SubmitService } from '@vad/operations';
import { createQueues, createWorker, jobIds, queueConnectionOf } from '@vad/queue';
import { pipelineConfigOf } from '@vad/runtime';
import { SegmentStore } from '@vad/storage';
import { configToEnv, createTestConfig, createTestDatabase, createTestRedis } from '@vad/testing';
import { resolveFfmpegBinaries } from '@vad/video';
import { plainDecodeSeconds } from '../lib/baselines.js';
import { type BenchVideoSpec, benchVideo } from '../lib/bench-video.js';
import { mib, sampleMemory } from '../lib/process-memory.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    runs: { type: 'string', default: '3' },
    long: { type: 'string' },
  },
});
const durationS = Number(args.duration);
const runs = Number(args.runs);
const root = join(import.meta.dirname, '..', '..');

const db = await createTestDatabase();
const redis = createTestRedis();
const config = createTestConfig({ databaseUrl: db.url, redisUrl: redis.url, prefix: redis.prefix });
const pipeline = pipelineConfigOf(config);
const { sampleFps, inputSize } = pipeline;
const binaries = resolveFfmpegBinaries();
const logger = createLogger({ log: { level: 'silent' } }, 'bench');
const connection = queueConnectionOf(config, 'worker');
const queues = createQueues(config, connection);
const segments = new SegmentStore(config.storage.root);
const submit = new SubmitService({ config, pipeline, repos: db.repos, queues, binaries, logger });

// The embed stage is not measured here: a consumer takes each segment as soon as it is queued.
const consumer = createWorker(
  'embed',
  async (job, _token, _signal) => segments.delete(job.data.videoId, job.data.segmentIndex),
  config,
  connection,
  { concurrency: 4 },
);
void consumer.run();

const worker = spawn(
  process.execPath,
  ['--conditions=vad-source', '--import', 'tsx', join(root, 'apps/ingest-worker/src/main.ts')],
  { env: { ...process.env, ...configToEnv(config), VAD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] },
);
const workerPid = worker.pid ?? 0;

const plainFfmpeg = (path: string) => plainDecodeSeconds(path, sampleFps, inputSize, binaries);

interface IngestRun {
  seconds: number;
  firstSegmentAfterS: number;
  frames: number;
}

async function vadIngest(path: string): Promise<IngestRun> {
  const { videoId } = await submit.submit({ path, camera: 'bench' });
  const jobId = jobIds.ingest(videoId);
  for (;;) {
    const state = await queues.ingest.getJobState(jobId);
    if (state === 'completed') break;
    if (state === 'failed') throw new Error(`ingest failed: ${(await queues.ingest.getJob(jobId))?.failedReason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const job = await queues.ingest.getJob(jobId);
  const firstEmbed = await queues.embed.getJob(jobIds.embed(videoId, 0));
  const started = job?.processedOn ?? 0;
  const result = {
    seconds: ((job?.finishedOn ?? 0) - started) / 1000,
    firstSegmentAfterS: ((firstEmbed?.timestamp ?? 0) - started) / 1000,
    frames: (job?.returnvalue as { frames?: number } | undefined)?.frames ?? 0,
  };
  await db.repos.videos.delete(videoId); // so the same file can be submitted again
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rows: string[] = [];
const specs: [string, BenchVideoSpec][] = [
  ['1080p25', { width: 1920, height: 1080, fps: 25, durationS }],
  ['720p25', { width: 1280, height: 720, fps: 25, durationS }],
];

try {
  await new Promise((r) => setTimeout(r, 2_000)); // worker start-up (tsx) is not part of any job
  for (const [label, spec] of specs) {
    const path = await benchVideo(spec);
    const plain: number[] = [];
    const vad: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await plainFfmpeg(path));
      vad.push((await vadIngest(path)).seconds);
    }
    const plainSpeed = durationS / median(plain);
    const vadSpeed = durationS / median(vad);
    const row = `| ${label} | ${durationS} s | ${plainSpeed.toFixed(1)} | ${vadSpeed.toFixed(1)} | ${((vadSpeed / plainSpeed) * 100).toFixed(0)}% |`;
    console.log(row);
    rows.push(row);
  }

  let longReport = '';
  if (args.long) {
    const longS = Number(args.long);
    const path = await benchVideo({ width: 1920, height: 1080, fps: 25, durationS: longS });
    const plainS = await plainFfmpeg(path);
    const memory = sampleMemory(workerPid);
    const run = await vadIngest(path);
    const peaks = memory.stop();
    longReport = [
      `| ${longS} s 1080p25 | ${(longS / plainS).toFixed(1)} | ${(longS / run.seconds).toFixed(1)} | ${run.frames} | ${run.firstSegmentAfterS.toFixed(1)} s of ${run.seconds.toFixed(1)} s | ${mib(peaks.workerPeakRss)} | ${peaks.workerRssByQuarter.map(mib).join(' / ')} | ${mib(peaks.ffmpegPeakRss)} |`,
    ].join('\n');
    console.log(longReport);
  }

  const cpu = (await import('node:os')).cpus();
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim()}, ffmpeg from ${binaries.source.ffmpeg} (${binaries.ffmpeg.split('/').slice(-3).join('/')}).`,
    `sampleFps ${sampleFps}, ${inputSize}×${inputSize} RGB, ${config.pipeline.segmentFrames} frames per segment; median of ${runs} runs; speed = video-seconds per wall-second.`,
    '',
    '| video | length | plain ffmpeg | vad ingest | ingest / ffmpeg |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    ...(longReport
      ? [
          '',
          '| long run | plain ffmpeg | vad ingest | frames | first segment queued after | worker peak RSS | worker RSS at 25/50/75/100% | ffmpeg peak RSS |',
          '| --- | --- | --- | --- | --- | --- | --- | --- |',
          longReport,
        ]
      : []),
    '',
  ].join('\n');
  await writeFile(join(import.meta.dirname, '..', 'results', 'ingest.md'), report);
  console.log(`\n${report}`);
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await consumer.close();
  await queues.close();
  await connection.close();
  await Promise.all([db.destroy(), redis.destroy()]);
}
