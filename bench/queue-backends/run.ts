/**
 * bench/queue-backends: the embed queue's own throughput on each queue
 * backend, Redis and PostgreSQL (BullMQ's postgres backend), side by side in
 * one run, through the code vad runs (@vad/queue's connections, queues, flows
 * and worker settings), with a no-op processor: what is measured is the
 * queue's overhead, not inference.
 *
 * Per backend and worker concurrency, on emptied queues:
 * 1. Producer: `--videos` videos, each `addVideoFlow` (the aggregate parent
 *    and its ingest child) then `--segments` `addEmbedJob` children one after
 *    the other, with the payload and priority ingest gives them → adds/s.
 * 2. Consumer: the ingest jobs completed (no-op), then `createWorker('embed')`
 *    with the real settings and a no-op processor drains the backlog →
 *    completed jobs/s (first to last completion), per-job overhead. Every
 *    aggregate parent must then be ready (waiting or prioritized: its
 *    children all completed); the run fails if one is not.
 * 3. Latency: `--stream-videos` more videos whose embed jobs are added from
 *    inside an ingest job, as ingest does, one every `--pace-ms`, while the
 *    embed worker waits for work → add→complete latency (p50/p95), and the
 *    aggregate check again.
 * Connections are sampled every 250 ms (pg_stat_activity of the bench
 * database; Redis CLIENT LIST for the bench's prefix) to see that they stay
 * bounded; the Redis prefix is deleted and the database dropped at the end.
 *
 *   npm run queue-backends -w @vad/bench -- [--videos 20] [--segments 100] [--concurrency 1,4,8]
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Config, loadConfig } from '@vad/config';
import {
  addEmbedJob,
  addVideoFlow,
  createQueues,
  createWorker,
  type EmbedJobData,
  jobIds,
  migrateQueueSchema,
  type QueueBackendName,
  type QueueConnection,
  type Queues,
  queueConnectionOf,
} from '@vad/queue';
import { createTestDatabase, createTestRedis } from '@vad/testing';

const { values: args } = parseArgs({
  options: {
    videos: { type: 'string', default: '20' },
    segments: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '1,4,8' },
    backends: { type: 'string', default: 'redis,postgres' },
    'stream-videos': { type: 'string', default: '2' },
    'pace-ms': { type: 'string', default: '25' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'queue-backends.md') },
  },
});
const VIDEOS = Number(args.videos);
const SEGMENTS = Number(args.segments);
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const BACKENDS = args.backends.split(',') as QueueBackendName[];
const STREAM_VIDEOS = Number(args['stream-videos']);
const PACE_MS = Number(args['pace-ms']);
for (const [name, value] of [
  ['videos', VIDEOS],
  ['segments', SEGMENTS],
  ['stream-videos', STREAM_VIDEOS],
  ...CONCURRENCIES.map((c) => ['concurrency', c] as const),
] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
}
if (!Number.isFinite(PACE_MS) || PACE_MS < 0) throw new Error(`--pace-ms must be a number ≥ 0`);
for (const backend of BACKENDS) {
  if (backend !== 'redis' && backend !== 'postgres') throw new Error(`--backends: redis or postgres, not ${backend}`);
}

const REDIS_URL = process.env.VAD_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** How long the aggregate parents may take to become ready after their last child completed. */
const READY_TIMEOUT_MS = 30_000;
/** How long a drain may take before the run is declared stuck. */
const DRAIN_TIMEOUT_MS = 120_000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const fixed = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const load = () => loadavg()[0]?.toFixed(2) ?? '?';
const problems: string[] = [];

// ── The bench's own Redis prefix and PostgreSQL database ──────────────────────
const testRedis = createTestRedis();
const database = await createTestDatabase(); // vad's tables too: the queue schema sits beside them, as in production

const configOf = (backend: QueueBackendName): Config =>
  loadConfig({
    envFile: false,
    env: {
      VAD_REDIS_URL: REDIS_URL,
      VAD_DATABASE_URL: database.url,
      VAD_QUEUE_BACKEND: backend,
      VAD_QUEUE_PREFIX: testRedis.prefix,
      VAD_LOG_LEVEL: 'silent',
    },
  });

interface Backend {
  name: QueueBackendName;
  config: Config;
  /** The ingest role's connection: it adds the embed jobs (and here the flows too). */
  producer: QueueConnection;
  /** The embed role's connection. */
  worker: QueueConnection;
  queues: Queues;
}

/** What the bench does with a worker, whichever queue it is of. */
type Worker = { close(): Promise<void> };
/** Workers not closed yet (closed at the end whatever happens). */
const openWorkers = new Set<Worker>();

// ── Connection sampling ──────────────────────────────────────────────────────
let phase = 'setup';
const peaks = new Map<string, { pg: number; pgByApp: string; redis: number }>();
const peakOf = (label: string) => {
  let peak = peaks.get(label);
  if (!peak) {
    peak = { pg: 0, pgByApp: '', redis: 0 };
    peaks.set(label, peak);
  }
  return peak;
};
let redisClientsOf: (() => Promise<number>) | undefined;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const label = phase;
    try {
      const { rows } = await database.pool.query<{ app: string; n: number }>(
        `select application_name as app, count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() group by 1 order by 1`,
      );
      const total = rows.reduce((sum, row) => sum + row.n, 0);
      const peak = peakOf(label);
      if (total > peak.pg) {
        peak.pg = total;
        peak.pgByApp = rows.map((row) => `${row.app || '?'} ${row.n}`).join(', ');
      }
      const redis = (await redisClientsOf?.()) ?? 0;
      peak.redis = Math.max(peak.redis, redis);
    } catch (error) {
      problems.push(`connection sampler: ${(error as Error).message}`);
    }
    await sleep(250);
  }
})();

// ── One measurement ─────────────────────────────────────────────────────────
interface Row {
  backend: QueueBackendName;
  concurrency: number;
  addsPerS: number;
  jobsPerS: number;
  wallMsPerJob: number;
  slotMsPerJob: number;
  readyChecks: number;
  latencyP50: number;
  latencyP95: number;
  errors: number;
  label: string;
}

/** The payload ingest gives a segment's embed job (ingest-service.ts), for segment `s` of a video. */
const embedData = (config: Config, videoId: string, s: number): EmbedJobData => ({
  videoId,
  segmentIndex: s,
  firstFrameIndex: s * config.pipeline.segmentFrames,
  frameCount: config.pipeline.segmentFrames,
  model: config.models.model,
});

/** The fair priority of a camera's k-th waiting upload (fairPriority in @vad/schedule: 2 + k at weight 100). */
const fairPriority = (k: number) => 2 + k;

/**
 * Waits until every aggregate parent is ready (waiting, or prioritized: it has a priority); how many checks of
 * every parent's state that took (1: all were ready when their last child's completion was reported).
 */
async function aggregatesReady(b: Backend, videoIds: readonly string[], what: string): Promise<number> {
  const started = performance.now();
  for (let checks = 1; ; checks++) {
    const states = await Promise.all(videoIds.map((id) => b.queues.aggregate.getJobState(jobIds.aggregate(id))));
    const notReady = states.filter((s) => s !== 'waiting' && s !== 'prioritized');
    if (notReady.length === 0) return checks;
    if (performance.now() - started > READY_TIMEOUT_MS) {
      const counts = new Map<string, number>();
      for (const s of notReady) counts.set(s, (counts.get(s) ?? 0) + 1);
      problems.push(
        `${b.name}, ${what}: ${notReady.length}/${videoIds.length} aggregate jobs not ready ` +
          `${READY_TIMEOUT_MS / 1000} s after their last child completed (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`,
      );
      return Number.NaN;
    }
    await sleep(20);
  }
}

interface Sizes {
  videos: number;
  segments: number;
  streamVideos: number;
}

async function measure(
  b: Backend,
  concurrency: number,
  { videos: VIDEOS, segments: SEGMENTS, streamVideos: STREAM_VIDEOS }: Sizes,
  label = `${b.name} c=${concurrency}`,
): Promise<Row> {
  phase = label;
  const { config, queues } = b;
  let errors = 0;
  const onError = (what: string) => (error: Error) => {
    errors++;
    if (errors <= 5) log(`   ${label}: ${what} error: ${error.message}`);
  };

  // 1. Producer: flows, then each video's embed children one after the other (ingest adds them that way).
  const backlog = Array.from({ length: VIDEOS }, () => randomUUID());
  const addStart = performance.now();
  for (const [v, videoId] of backlog.entries()) {
    const priority = fairPriority(v);
    await addVideoFlow(queues, config, videoId, { priority });
    for (let s = 0; s < SEGMENTS; s++) await addEmbedJob(queues, embedData(config, videoId, s), { priority });
  }
  const addMs = performance.now() - addStart;
  const addsPerS = (VIDEOS * (1 + SEGMENTS)) / (addMs / 1000);

  // The ingest worker: a no-op for the backlog videos (their embed jobs are queued); for the streamed
  // videos, it adds their embed jobs one every PACE_MS from inside the ingest job, as ingest does.
  const streamed = new Map<string, number>(); // videoId → its priority
  const addedAt = new Map<string, number>(); // embed job id → when its add was called
  const ingest = createWorker(
    'ingest',
    async (job) => {
      const priority = streamed.get(job.data.videoId);
      if (priority === undefined) return;
      for (let s = 0; s < SEGMENTS; s++) {
        await sleep(PACE_MS);
        addedAt.set(jobIds.embed(job.data.videoId, s), performance.now());
        await addEmbedJob(queues, embedData(config, job.data.videoId, s), { priority });
      }
    },
    config,
    b.producer,
    { concurrency: config.ingest.concurrency },
  );
  openWorkers.add(ingest);
  let ingested = 0;
  ingest.on('completed', () => ingested++);
  ingest.on('failed', (_job, error) => onError('ingest job')(error));
  ingest.on('error', onError('ingest worker'));
  void ingest.run();
  const waitUntil = async (what: string, done: () => boolean) => {
    const started = performance.now();
    while (!done()) {
      if (performance.now() - started > DRAIN_TIMEOUT_MS) throw new Error(`${label}: ${what} not done in time`);
      await sleep(5);
    }
  };
  await waitUntil('backlog ingest jobs', () => ingested >= VIDEOS);

  // 2. Consumer: the embed worker drains the backlog.
  let completed = 0;
  let first = 0;
  let last = 0;
  const seen = new Set<string>();
  const latencies: number[] = [];
  const embed = createWorker('embed', async () => {}, config, b.worker, { concurrency });
  openWorkers.add(embed);
  embed.on('completed', (job) => {
    const now = performance.now();
    if (completed++ === 0) first = now;
    last = now;
    const id = job.id ?? '';
    if (seen.has(id)) problems.push(`${label}: ${id} completed twice`);
    seen.add(id);
    const added = addedAt.get(id);
    if (added !== undefined) latencies.push(now - added);
  });
  embed.on('failed', (_job, error) => onError('embed job')(error));
  embed.on('error', onError('embed worker'));
  await embed.waitUntilReady();
  void embed.run();
  const n = VIDEOS * SEGMENTS;
  await waitUntil('embed backlog', () => completed >= n);
  const drainMs = last - first;
  const jobsPerS = (n - 1) / (drainMs / 1000);
  const readyChecks = await aggregatesReady(b, backlog, 'backlog');

  // 3. Latency: embed jobs added one at a time from inside ingest jobs while the embed worker waits.
  const stream = Array.from({ length: STREAM_VIDEOS }, () => randomUUID());
  for (const [v, videoId] of stream.entries()) {
    streamed.set(videoId, fairPriority(v));
    await addVideoFlow(queues, config, videoId, { priority: fairPriority(v) });
  }
  await waitUntil('streamed embed jobs', () => completed >= n + STREAM_VIDEOS * SEGMENTS);
  await aggregatesReady(b, stream, 'streamed');
  latencies.sort((x, y) => x - y);

  await Promise.all([embed.close(), ingest.close()]);
  openWorkers.delete(embed);
  openWorkers.delete(ingest);
  const counts = await queues.embed.getJobCounts('failed', 'waiting', 'prioritized', 'active', 'delayed');
  if (Object.values(counts).some((c) => c > 0))
    problems.push(`${label}: embed queue left with ${JSON.stringify(counts)}`);
  if (completed !== n + STREAM_VIDEOS * SEGMENTS)
    problems.push(`${label}: ${completed} completions for ${seen.size} jobs`);
  // Empty the queues for the next measurement (so that every measurement starts from the same state).
  phase = 'cleanup';
  for (const queue of [queues.embed, queues.ingest, queues.aggregate]) await queue.obliterate({ force: true });

  return {
    backend: b.name,
    concurrency,
    addsPerS,
    jobsPerS,
    wallMsPerJob: drainMs / (n - 1),
    slotMsPerJob: (concurrency * drainMs) / (n - 1),
    readyChecks,
    latencyP50: percentile(latencies, 50),
    latencyP95: percentile(latencies, 95),
    errors,
    label,
  };
}

// ── The run ──────────────────────────────────────────────────────────────────
const startLoad = load();
log(
  `load average ${startLoad} at start; database ${new URL(database.url).pathname.slice(1)}, prefix ${testRedis.prefix}`,
);
const backends: Backend[] = [];
const versions: string[] = [];
let bullmqVersion = '?';
const rows: Row[] = [];
let endLoad = '';
const runStart = performance.now();
try {
  for (const name of BACKENDS) {
    const config = configOf(name);
    await migrateQueueSchema(config);
    const producer = queueConnectionOf(config, 'worker', { name: 'vad-bench-ingest' });
    const worker = queueConnectionOf(config, 'worker', { name: 'vad-bench-embed' });
    const onError = (error: Error) => log(`   ${name} queues: ${error.message}`);
    backends.push({ name, config, producer, worker, queues: createQueues(config, producer, onError) });
  }
  const redisBackend = backends.find((b) => b.name === 'redis');
  if (redisBackend) {
    const client = await redisBackend.queues.embed.backend.client;
    const info = await client.info();
    versions.push(`Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`);
    const tag = testRedis.prefix;
    redisClientsOf = async () =>
      (await client.clientList()).split('\n').filter((line) => line.includes(tag) || line.includes('name=vad-bench'))
        .length;
  }
  if (backends.some((b) => b.name === 'postgres')) {
    const { rows } = await database.pool.query<{ v: string }>(`select current_setting('server_version') as v`);
    versions.push(`PostgreSQL ${rows[0]?.v.split(' ')[0] ?? '?'}`);
  }
  bullmqVersion = await readFile(
    join(import.meta.dirname, '..', '..', 'node_modules', 'bullmq', 'package.json'),
    'utf8',
  )
    .then((text) => (JSON.parse(text) as { version: string }).version)
    .catch(() => '?');

  // A warm-up round per backend (JIT, scripts and statements prepared, pools filled), not reported.
  for (const b of backends) {
    log(`${b.name}: warm-up…`);
    await measure(b, Math.max(...CONCURRENCIES), { videos: 4, segments: 50, streamVideos: 1 }, `${b.name} warm-up`);
  }
  const sizes = { videos: VIDEOS, segments: SEGMENTS, streamVideos: STREAM_VIDEOS };
  for (const concurrency of CONCURRENCIES) {
    for (const b of backends) {
      log(`${b.name}, concurrency ${concurrency}: ${VIDEOS} videos × ${SEGMENTS} segments… (load ${load()})`);
      const row = await measure(b, concurrency, sizes);
      rows.push(row);
      log(
        `   adds ${fixed(row.addsPerS)}/s, completed ${fixed(row.jobsPerS)} jobs/s, ` +
          `latency p95 ${fixed(row.latencyP95)} ms, peak connections pg ${peakOf(row.label).pg} redis ${peakOf(row.label).redis}`,
      );
    }
  }
} finally {
  endLoad = load();
  log(`load average ${endLoad} at end; ${((performance.now() - runStart) / 1000).toFixed(0)} s`);
  phase = 'closed';
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      problems.push(`cleanup, ${what}: ${(error as Error).message}`);
    }
  };
  sampling = false;
  await sampler;
  redisClientsOf = undefined;
  await step('workers', () => Promise.all([...openWorkers].map((w) => w.close())));
  for (const b of backends) {
    await step(`${b.name} queues`, () => b.queues.close());
    await step(`${b.name} connections`, () => Promise.all([b.producer.close(), b.worker.close()]));
  }
  await sleep(500);
  // What is left connected to the bench's database once every queue class is closed: only the sampler's pool.
  await step('pg_stat_activity', async () => {
    const { rows: left } = await database.pool.query<{ app: string; n: number }>(
      `select application_name as app, count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name <> 'vad-test' group by 1`,
    );
    if (left.length > 0) problems.push(`left connected after close: ${left.map((r) => `${r.app} ${r.n}`).join(', ')}`);
  });
  await step('Redis prefix', () => testRedis.destroy());
  await step('database', () => database.destroy());
}

if (problems.length > 0) {
  for (const problem of problems) log(`FAILED: ${problem}`);
  process.exit(1);
}

// ── vad's embed stage, for scale ─────────────────────────────────────────────
/** The embed worker's frames/s in bench/results/embed-cpu.md (uint8 model), with the line saying where it comes from. */
async function embedStage(): Promise<{ fps: number; batch: string; measured: string } | undefined> {
  const text = await readFile(join(import.meta.dirname, '..', 'results', 'embed-cpu.md'), 'utf8').catch(() => '');
  const lines = text.split('\n');
  const header = lines.findIndex((line) => line.includes('| embed worker, uint8 (frames/s) |'));
  if (header < 0) return undefined;
  const cells = (line: string | undefined) => (line ?? '').split('|').map((cell) => cell.trim());
  const column = cells(lines[header]).indexOf('embed worker, uint8 (frames/s)');
  const data = cells(lines[header + 2]);
  const fps = Number(data[column]);
  const measured = /^Measured (\S+ on [^,]+, provider \w+)/.exec(lines[0] ?? '')?.[1] ?? '';
  return Number.isFinite(fps) && fps > 0 ? { fps, batch: data[1] ?? '?', measured } : undefined;
}
const stage = await embedStage();
const segmentFrames = backends[0]?.config.pipeline.segmentFrames ?? 64;
const defaultConcurrency = backends[0]?.config.embed.concurrency ?? 4;

// ── Report ───────────────────────────────────────────────────────────────────
const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
const cmd =
  `npm run queue-backends -w @vad/bench -- --videos ${VIDEOS} --segments ${SEGMENTS} ` +
  `--concurrency ${CONCURRENCIES.join(',')}`;
out('# Queue backends benchmark');
out();
out(
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
    `BullMQ ${bullmqVersion}, ${versions.join(', ')} (both local); load average ${startLoad} at start, ${endLoad} at end. ` +
    `Command: \`${cmd}\` (\`npm run queue-backends -w @vad/bench\` for the defaults).`,
);
out();
out(
  `The embed queue's own cost on each backend, through vad's code (\`createQueueConnection\` as the ingest and embed ` +
    'roles open it, `createQueues`, `addVideoFlow`, `addEmbedJob`, `createWorker` with the real worker settings: locks, ' +
    `stalled checks, a week of metrics), with a **no-op processor**, so the figures are the queue's overhead alone. ` +
    `Per backend and concurrency, on emptied queues: ${VIDEOS} videos are queued as ingest queues them — ` +
    `\`addVideoFlow\` (the aggregate parent and its ingest child, fair priorities 2, 3, …) then ${SEGMENTS} ` +
    `\`addEmbedJob\` children each, one after the other, with ingest's payload (${segmentFrames} frames a segment) ` +
    `→ **adds/s** (flows and embed jobs, ${VIDEOS * (SEGMENTS + 1)} adds); the ingest jobs complete; then one embed ` +
    `worker drains the ${VIDEOS * SEGMENTS} embed jobs → **completed jobs/s** (first to last completion), ` +
    "**wall ms/job** (1000 ÷ jobs/s) and **slot ms/job** (what each job costs one of the worker's concurrency slots: " +
    `concurrency × wall ms/job; what a real processor's time per segment grows by). **Aggregates ready**: every ` +
    `aggregate parent is waiting (prioritized) once its children completed — checked for all ${VIDEOS}, the run ` +
    'fails otherwise; "at once" when all were already ready at the first check, made as soon as the last embed ' +
    `job's completion was reported (BullMQ moves a parent in the same script or transaction as its last child). ` +
    `**add→complete**: ${STREAM_VIDEOS} more ` +
    `videos' embed jobs (${STREAM_VIDEOS * SEGMENTS}) added from inside their ingest job, one every ${PACE_MS} ms, while ` +
    "the embed worker waits for work: the latency a segment sees from its add to its job's completion. " +
    "**Peak connections**: the most connections to the bench's database (pg_stat_activity) or with the bench's " +
    'names in Redis (CLIENT LIST) sampled every 250 ms during the measurement: ingest and embed connections, ' +
    `queues and workers (the sampler's own connection not counted).`,
);
out();
out(
  '| backend | concurrency | adds/s | completed jobs/s | wall ms/job | slot ms/job | aggregates ready | add→complete p50 / p95 | peak connections |',
);
out('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const peak = peakOf(row.label);
  out(
    `| ${row.backend} | ${row.concurrency}${row.concurrency === defaultConcurrency ? ' (default)' : ''} ` +
      `| ${fixed(row.addsPerS)} | ${fixed(row.jobsPerS)} | ${fixed(row.wallMsPerJob)} | ${fixed(row.slotMsPerJob)} ` +
      `| ${VIDEOS}/${VIDEOS}${row.readyChecks === 1 ? ', at once' : `, after ${row.readyChecks} checks`} | ${fixed(row.latencyP50)} / ${fixed(row.latencyP95)} ms ` +
      `| ${row.backend === 'postgres' ? `${peak.pg} (${peak.pgByApp})` : `${peak.redis} clients`} |`,
  );
}
const errors = rows.reduce((sum, row) => sum + row.errors, 0);
out();
out(
  `No job failed, none completed twice, no job was left in the queues; ${errors} worker or connection error(s); ` +
    'every connection closed at the end (none left in pg_stat_activity).',
);
out();
if (stage) {
  const segmentsPerS = stage.fps / segmentFrames;
  const slowest = rows.reduce((min, row) => (row.jobsPerS < min.jobsPerS ? row : min));
  const slowestAdds = rows.reduce((min, row) => (row.addsPerS < min.addsPerS ? row : min));
  const perSegmentMs = 1000 / segmentsPerS;
  const worstSlot = rows.reduce((max, row) => (row.slotMsPerJob > max.slotMsPerJob ? row : max));
  out(
    `**Against the limit, vad's embed stage**: ${stage.fps} frames/s (bench/results/embed-cpu.md: the embed worker, ` +
      `uint8 model, batch ${stage.batch}, measured ${stage.measured}) is ${fixed(segmentsPerS)} segments/s at ` +
      `${segmentFrames} frames a segment (VAD_SEGMENT_FRAMES), ${fixed(perSegmentMs)} ms a segment. The slowest queue ` +
      `here, ${slowest.backend} at concurrency ${slowest.concurrency}, completes ${fixed(slowest.jobsPerS)} jobs/s: ` +
      `**${fixed(slowest.jobsPerS / segmentsPerS)}×** what the embed stage can use (the slowest adds, ` +
      `${slowestAdds.backend} at ${fixed(slowestAdds.addsPerS)}/s, are ${fixed(slowestAdds.addsPerS / segmentsPerS)}× ` +
      `what it needs); the queue would become the bottleneck only for an embed stage above ` +
      `${fixed(slowest.jobsPerS * segmentFrames)} frames/s. The largest per-job cost, ${fixed(worstSlot.slotMsPerJob)} ms ` +
      `of a slot (${worstSlot.backend}, concurrency ${worstSlot.concurrency}), is ` +
      `${((100 * worstSlot.slotMsPerJob) / perSegmentMs).toFixed(2)}% of a segment's embedding time here.`,
  );
} else {
  out('(bench/results/embed-cpu.md has no embed worker frames/s to compare with: run `npm run embed -w @vad/bench`.)');
}
await writeFile(args.out, `${lines.join('\n')}\n`);
log(`written to ${args.out}`);
