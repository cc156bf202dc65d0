/**
 * bench/retention: what retention of frame embeddings costs now that
 * frame_embeddings is partitioned by the UTC day of each video's recording
 * (migration 0009), what the rows take on disk, and what a year of daily
 * partitions costs the queries that cannot name a day.
 *
 * 1. Bytes per camera-hour of frame_embeddings (heap, TOAST and primary key,
 *    pg_total_relation_size of the day's partition after VACUUM ANALYZE) for
 *    float32 vectors, float16 vectors, and float16 with motion sampling reusing
 *    the vector of the frame before for 9 frames in 10 (embedding NULL,
 *    same_as_frame set).
 * 2. A retention run over a month of daily partitions: `--days` days (30) of
 *    one camera-night of `--hours` (8) at 2 fps each (30 × 8 h × 3600 × 2 =
 *    1,728,000 rows of 512-d float16 vectors), every video long expired, timed
 *    as one whole RetentionService.run() (job records in Redis included), and
 *    split into the DROPs themselves (each partition's lock to its commit, the
 *    file system freeing its files included) and the rest (deciding which
 *    days can go, locking their videos). A plain DROP of a copy of one day
 *    shows the file system's part alone.
 * 3. The row-delete path, measured on a sample (`--sample-days` days of the
 *    same camera-nights, each day also holding a video still embedding, so
 *    that retention keeps the partitions and deletes the expired videos' rows
 *    in batches) and extrapolated at its rate to the month's rows.
 * 4. The query-planning cost of a loadVectors-style query by video_id, without
 *    the partition key (every partition planned and probed) and with the
 *    video's day named as the repositories now do (one partition), with 1
 *    daily partition, with the month's, and with 365 (EXPLAIN ANALYZE planning
 *    and execution time, the median of repeated runs; also as a new
 *    connection's first query, the locks it takes and the plan's shape; and
 *    the round trips of countInRange() and loadVectors() through the
 *    repository), and a retention run over the 365 with nothing to drop.
 *
 * Rows are generated in SQL (generate_series), their vectors drawn from 1,024
 * random byte strings (random bytes do not compress, as real embeddings barely
 * do: TOAST stores a 2 KiB float32 vector out of line either way). The
 * database, Redis keys and storage folder it creates are removed at the end.
 *
 *   npm run retention -w @vad/bench -- [--days 30] [--hours 8] [--sample-days 5]
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '@vad/config';
import { createDatabase, nextDay, partitionName, type Repositories } from '@vad/db';
import { RetentionService } from '@vad/operations';
import { createQueues, queueConnectionOf } from '@vad/queue';
import { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
import { createTestConfig, createTestDatabase, createTestRedis } from '@vad/testing';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    hours: { type: 'string', default: '8' },
    'sample-days': { type: 'string', default: '5' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'retention.md') },
  },
});
const DAYS = Number(args.days);
const HOURS = Number(args.hours);
const SAMPLE_DAYS = Number(args['sample-days']);
const FPS = 2;
const DIM = 512;
const FRAMES_PER_NIGHT = Math.round(HOURS * 3600 * FPS);
const MODEL = 'clip-vit-base-patch32';
/** When the runs happen: videos that ended before 16 December 2026 12:00 are past 30 days of embeddings retention. */
const NOW = Date.parse('2027-01-15T12:00:00Z');
const RETAIN_DAYS = 30;
/** Videos that ended recently: inside retention. */
const RECENT = '2027-01-14T06:00:00Z';
const PLANNING_RUNS = 30;
/** Plain tables of one day's rows dropped to time the file system's part (median). */
const PLAIN_DROPS = 3;
/** The year's other days: this many videos a day (cameras) of this many frames, so that one video is a small share of its day. */
const YEAR_VIDEOS = 20;
const YEAR_FRAMES = 36;

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const database = await createTestDatabase();
const redis = createTestRedis();
const config = createTestConfig({
  databaseUrl: database.url,
  redisUrl: redis.url,
  prefix: redis.prefix,
  env: { VAD_RETAIN_EMBEDDINGS_DAYS: String(RETAIN_DAYS) },
});
const connection = queueConnectionOf(config, 'worker');
const queues = createQueues(config, connection);
const cleanups: (() => Promise<unknown>)[] = [
  () => queues.close(),
  async () => connection.close(),
  () => database.destroy(),
  () => redis.destroy(),
  () => rm(config.storage.root, { recursive: true, force: true }),
];
const sql = (text: string, values: unknown[] = []) => database.pool.query(text, values);
const mib = (bytes: number) =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const seconds = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);
const msec = (ms: number) => (ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const addDays = (day: string, n: number) => {
  let d = day;
  for (let i = 0; i < n; i += 1) d = nextDay(d);
  return d;
};

interface DaySeed {
  /** The first day; videos are recorded on `days` days from it, `videosPerDay` a day (one camera each). */
  firstDay: string;
  days: number;
  videosPerDay: number;
  frames: number;
  dtype: 'float16' | 'float32';
  /** Of every 10 frames, how many reuse the vector of the last encoded one before them (motion sampling). */
  reusedOfTen?: number;
  /** When the videos ended (done): 'morning' (10 h after their recording started), a time, or null (still embedding). */
  finishedAt: 'morning' | string | null;
  /** Hour (UTC) the recordings start. */
  hour?: number;
  /** Leave the new partitions unvacuumed (a year of small days: ANALYZE once at the end). */
  noVacuum?: boolean;
}

/** Videos recorded on each day, with `frames` frame embeddings each, in their day's partition as the embed worker writes them. */
async function seedDays(seed: DaySeed): Promise<{ id: string; day: string }[]> {
  const reused = seed.reusedOfTen ?? 0;
  const videos = (
    await sql(
      `insert into videos (source_uri, sha256, bytes, duration_ms, recorded_at, status, model, pipeline_config, config_hash,
                           finished_at, updated_at)
       select '/bench/' || md5(random()::text) || '.mp4', md5(random()::text), 1, $2::int * 500, r.at,
              $3::video_status, $4, '{}', 'bench', f.at, coalesce(f.at, r.at)
       from generate_series(0, $6::int - 1) d cross join generate_series(0, $7::int - 1) c
       cross join lateral (select $1::date + make_interval(days => d, hours => $8, mins => c) as at) r
       cross join lateral (select case when $9::boolean then r.at + interval '10 hours' else $5::timestamptz end as at) f
       order by d, c
       returning id, ((recorded_at at time zone 'UTC')::date)::text as day`,
      [
        seed.firstDay,
        seed.frames,
        seed.finishedAt ? 'done' : 'embedding',
        MODEL,
        seed.finishedAt === 'morning' ? null : seed.finishedAt,
        seed.days,
        seed.videosPerDay,
        seed.hour ?? 22,
        seed.finishedAt === 'morning',
      ],
    )
  ).rows as { id: string; day: string }[];
  const days = [...new Set(videos.map((v) => v.day))];
  for (const day of days) await sql(`select vad_ensure_day_partition('frame_embeddings', $1)`, [day]);
  const blob = seed.dtype === 'float16' ? 'b16' : 'b32';
  for (const [i, video] of videos.entries()) {
    await sql(
      `insert into frame_embeddings (video_id, frame_index, model, pts_ms, dtype, embedding, same_as_frame, recorded_day)
       select $1, f, $2, f * 500, $3::embedding_dtype,
              case when f % 10 < 10 - $5 then b.${blob} end, case when f % 10 >= 10 - $5 then f - f % 10 + (9 - $5) end, $6
       from generate_series(0, $4 - 1) f join bench_blobs b on b.k = (f * 7919 + $7) % 1024`,
      [video.id, MODEL, seed.dtype, seed.frames, reused, video.day, i],
    );
    if (videos.length > 4 && seed.frames > 1000 && (i + 1) % 5 === 0) log(`  ${i + 1}/${videos.length} videos`);
  }
  if (!seed.noVacuum) for (const day of days) await sql(`vacuum analyze ${partitionName('frame_embeddings', day)}`);
  return videos;
}

const partitionBytes = async (day: string) =>
  Number(
    (await sql(`select pg_total_relation_size($1::regclass) as bytes`, [partitionName('frame_embeddings', day)]))
      .rows[0]?.bytes ?? 0,
  );
const partitionCount = async () =>
  Number(
    (await sql(`select count(*)::int as n from pg_inherits where inhparent = 'frame_embeddings'::regclass`)).rows[0]
      ?.n ?? 0,
  );

/** Whether the file system holding PostgreSQL's data directory is mounted with `discard` (when this machine can tell). */
async function discardMount(): Promise<boolean> {
  const dataDirectory = String(
    (await sql('show data_directory').catch(() => undefined))?.rows[0]?.data_directory ?? '',
  );
  if (!dataDirectory) return false;
  const mounts = (await readFile('/proc/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' '))
    .filter(
      ([, point]) => point && (dataDirectory === point || dataDirectory.startsWith(point === '/' ? '/' : `${point}/`)),
    )
    .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0));
  return (mounts[0]?.[3] ?? '').split(',').includes('discard');
}

/** One whole RetentionService.run(), with the time its pass over the partitions took (dropEmbeddingPartitions). */
async function timedRun() {
  let passMs = 0;
  const retention = database.repos.retention;
  const timed: Pick<Repositories, 'retention'> = {
    retention: Object.assign(Object.create(retention), {
      dropEmbeddingPartitions: async (cutoff: Date) => {
        const t0 = performance.now();
        try {
          return await retention.dropEmbeddingPartitions(cutoff);
        } finally {
          passMs += performance.now() - t0;
        }
      },
    }),
  };
  const service = new RetentionService({
    config,
    repos: timed,
    queues,
    thumbnails: new ThumbnailStore(config.storage.root),
    clips: new EventClipStore(config.storage.root),
    segments: new SegmentStore(config.storage.root),
    logger: createLogger({ log: { level: 'silent' } }, 'bench'),
    now: () => NOW,
  });
  const t0 = performance.now();
  const result = await service.run();
  const ms = performance.now() - t0;
  // Each drop transaction's window (lock to commit), once: it is given on each partition it dropped.
  const dropMs = result.partitionsDropped.reduce((n, p) => n + p.lock.ms / p.lock.partitions, 0);
  const transactions = Math.round(result.partitionsDropped.reduce((n, p) => n + 1 / p.lock.partitions, 0));
  return { ms, passMs, dropMs, transactions, result };
}

/**
 * The SQL of loadVectors for one video: by video_id and model, without the
 * partition key (as it was before day hints), or with its day named
 * (`recorded_day = '…'`, as FrameEmbeddingRepository.loadVectors now reads,
 * the day known before planning).
 */
const loadVectorsSql = (video: { id: string; day: string }, hinted: boolean) =>
  `select frame_index, pts_ms, dtype, embedding, same_as_frame from frame_embeddings
   where video_id = '${video.id}' and model = '${MODEL}'${hinted ? ` and recorded_day = '${video.day}'` : ''} order by frame_index`;

interface PlanNode {
  'Node Type': string;
  'Parallel Aware'?: boolean;
  Plans?: PlanNode[];
}

/** The plan's shape, top down to its Append: `Merge Append of 365 (Index Scan ×365)`. */
function shape(node: PlanNode | undefined): string {
  const steps: string[] = [];
  let n = node;
  while (n && n['Node Type'] !== 'Append' && n['Node Type'] !== 'Merge Append') {
    steps.push(`${n['Parallel Aware'] ? 'Parallel ' : ''}${n['Node Type']}`);
    n = n.Plans?.[0];
  }
  if (n) {
    const kinds = new Map<string, number>();
    for (const child of n.Plans ?? []) kinds.set(child['Node Type'], (kinds.get(child['Node Type']) ?? 0) + 1);
    const children = [...kinds].map(([kind, count]) => `${kind} ×${count}`).join(', ');
    steps.push(`${n['Parallel Aware'] ? 'Parallel ' : ''}${n['Node Type']} (${children})`);
  }
  return steps.join(' → ');
}

interface QueryPlanning {
  planMs: number;
  execMs: number;
  coldPlanMs: number;
  locks: number;
  shape: string;
}

interface Planning {
  partitions: number;
  /** The query by video_id alone (every partition). */
  unhinted: QueryPlanning;
  /** The same with its day named (one partition). */
  hinted: QueryPlanning;
  /** countInRange() of one segment (64 frames), through the repository (its day hint kept): as the embed worker asks per segment. */
  countMs: number;
  /** loadVectors() through the repository (its day hint kept): the round trip with decoding. */
  loadMs: number;
}

/**
 * A query's planning and execution time (medians, EXPLAIN ANALYZE), its
 * planning time as a new connection's first query, the locks it holds inside
 * a transaction, the plan's shape.
 */
async function measureQuery(text: string): Promise<QueryPlanning> {
  const explain = async (run: (text: string) => Promise<{ rows: unknown[] }>) => {
    const { rows } = await run(`explain (analyze, format json) ${text}`);
    const [out] = (
      rows[0] as { 'QUERY PLAN': { 'Planning Time': number; 'Execution Time': number; Plan: PlanNode }[] }
    )['QUERY PLAN'];
    return { plan: out?.['Planning Time'] ?? Number.NaN, exec: out?.['Execution Time'] ?? Number.NaN, tree: out?.Plan };
  };
  const client = await database.pool.connect();
  const plans: number[] = [];
  const execs: number[] = [];
  let locks = 0;
  let tree: PlanNode | undefined;
  try {
    for (let i = 0; i < 3; i += 1) tree = (await explain((q) => client.query(q))).tree;
    for (let i = 0; i < PLANNING_RUNS; i += 1) {
      const { plan, exec } = await explain((q) => client.query(q));
      plans.push(plan);
      execs.push(exec);
    }
    await client.query('begin');
    await client.query(text);
    locks = Number(
      (await client.query('select count(*)::int as n from pg_locks where pid = pg_backend_pid()')).rows[0]?.n ?? 0,
    );
    await client.query('commit');
  } finally {
    client.release();
  }
  // A new connection: its first query reads the catalog entries of every partition it plans into its caches.
  const cold: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const fresh = createDatabase(database.url, { max: 1 });
    try {
      cold.push((await explain((q) => fresh.pool.query(q))).plan);
    } finally {
      await fresh.close();
    }
  }
  return { planMs: median(plans), execMs: median(execs), coldPlanMs: median(cold), locks, shape: shape(tree) };
}

/** loadVectors' query for `video`, without and with its day named; and the round trips of countInRange and loadVectors. */
async function planning(video: { id: string; day: string }): Promise<Planning> {
  const unhinted = await measureQuery(loadVectorsSql(video, false));
  const hinted = await measureQuery(loadVectorsSql(video, true));
  const timed = async (call: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < PLANNING_RUNS + 3; i += 1) {
      const t0 = performance.now();
      await call();
      times.push(performance.now() - t0);
    }
    return median(times.slice(3));
  };
  return {
    partitions: await partitionCount(),
    unhinted,
    hinted,
    countMs: await timed(() => database.repos.frameEmbeddings.countInRange(video.id, MODEL, 0, 63)),
    loadMs: await timed(() => database.repos.frameEmbeddings.loadVectors(video.id, MODEL)),
  };
}

/** A log line of one planning measurement. */
const planningLine = (p: Planning) =>
  `  by video_id alone: planning ${msec(p.unhinted.planMs)}, execution ${msec(p.unhinted.execMs)}, ${p.unhinted.locks} locks; ` +
  `day named: planning ${msec(p.hinted.planMs)}, execution ${msec(p.hinted.execMs)}, ${p.hinted.locks} locks`;

/**
 * Every day of the year up to NOW's that has no partition yet gets one, with
 * `videos` small recent videos of `frames` frames (1 in 10 holding a vector,
 * the others reusing it): a year of days, in a few statements.
 */
async function seedYear(videos: number, frames: number): Promise<void> {
  const days = (
    await sql(
      `select d::date::text as day from generate_series('2026-01-16'::date, '2027-01-15'::date, '1 day') d
       where to_regclass('frame_embeddings_d' || to_char(d, 'YYYYMMDD')) is null`,
    )
  ).rows.map((r: { day: string }) => r.day);
  await sql(`select vad_ensure_day_partition('frame_embeddings', d::date) from unnest($1::text[]) d`, [days]);
  await sql(
    `with v as (
       insert into videos (source_uri, sha256, bytes, duration_ms, recorded_at, status, model, pipeline_config, config_hash,
                           finished_at, updated_at)
       select '/bench/' || md5(random()::text) || '.mp4', md5(random()::text), 1, $3::int * 500,
              d::date + make_interval(hours => 20, mins => c), 'done', $4, '{}', 'bench', $5::timestamptz, $5::timestamptz
       from unnest($1::text[]) d cross join generate_series(0, $2::int - 1) c
       returning id, (recorded_at at time zone 'UTC')::date as day
     )
     insert into frame_embeddings (video_id, frame_index, model, pts_ms, dtype, embedding, same_as_frame, recorded_day)
     select v.id, f, $4, f * 500, 'float16', case when f % 10 = 0 then b.b16 end, case when f % 10 <> 0 then f - f % 10 end, v.day
     from v cross join generate_series(0, $3::int - 1) f join bench_blobs b on b.k = f % 1024`,
    [days, videos, frames, MODEL, RECENT],
  );
  await sql('vacuum analyze frame_embeddings');
}

try {
  log('random vectors…');
  await sql(`create unlogged table bench_blobs (k int primary key, b16 bytea not null, b32 bytea not null)`);
  await sql(
    `insert into bench_blobs
     select k,
            (select decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex') from generate_series(1, ${DIM * 2} + 0 * k)),
            (select decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex') from generate_series(1, ${DIM * 4} + 0 * k))
     from generate_series(0, 1023) k`,
  );

  // 1. Bytes per camera-hour: 4 camera-hours of each kind (4 cameras, one hour each), on a day of its own.
  log('bytes per camera-hour…');
  const hourFrames = 3600 * FPS;
  const kinds = [
    { name: 'float32', firstDay: '2026-01-05', dtype: 'float32' as const, reusedOfTen: 0 },
    { name: 'float16', firstDay: '2026-01-06', dtype: 'float16' as const, reusedOfTen: 0 },
    {
      name: 'float16, 90 % of frames reusing a vector',
      firstDay: '2026-01-07',
      dtype: 'float16' as const,
      reusedOfTen: 9,
    },
  ];
  const perHour: { name: string; bytes: number; storage: { encoded: number; reused: number; payload: number } }[] = [];
  for (const kind of kinds) {
    const videos = await seedDays({
      ...kind,
      days: 1,
      videosPerDay: 4,
      frames: hourFrames,
      finishedAt: '2026-06-01',
    });
    const storage = await database.repos.frameEmbeddings.storageOf(videos[0]?.id as string);
    perHour.push({
      name: kind.name,
      bytes: (await partitionBytes(kind.firstDay)) / 4,
      storage: { encoded: storage.encodedRows, reused: storage.reusedRows, payload: storage.embeddingBytes },
    });
    log(`  ${kind.name}: ${mib(perHour.at(-1)?.bytes ?? 0)} per camera-hour`);
  }
  // Out of the way of what follows.
  for (const kind of kinds) await sql(`drop table ${partitionName('frame_embeddings', kind.firstDay)}`);
  await sql('delete from videos');

  // 4a. Planning with 1 partition: a recent day (inside retention) like the year's days below, alone in frame_embeddings.
  log('loadVectors planning, 1 partition…');
  const [probe] = await seedDays({
    firstDay: '2027-01-13',
    days: 1,
    videosPerDay: YEAR_VIDEOS,
    frames: YEAR_FRAMES,
    dtype: 'float16',
    reusedOfTen: 9,
    finishedAt: RECENT,
  });
  if (!probe || (await partitionCount()) !== 1) throw new Error('expected one partition');
  const planOne = await planning(probe);
  log(planningLine(planOne));
  // Two more recent nights that retention must leave alone.
  await seedDays({
    firstDay: '2027-01-11',
    days: 2,
    videosPerDay: 1,
    frames: 600,
    dtype: 'float16',
    finishedAt: RECENT,
  });

  // 3. The row-delete path on a sample: each day also holds a video still embedding, so its partition stays.
  const sampleFirst = '2026-10-01';
  log(`row-delete sample: ${SAMPLE_DAYS} days of 1 camera-night, each with a video still embedding…`);
  await seedDays({
    firstDay: sampleFirst,
    days: SAMPLE_DAYS,
    videosPerDay: 1,
    frames: FRAMES_PER_NIGHT,
    dtype: 'float16',
    finishedAt: 'morning',
  });
  const unfinished = await seedDays({
    firstDay: sampleFirst,
    days: SAMPLE_DAYS,
    videosPerDay: 1,
    frames: 64,
    dtype: 'float16',
    finishedAt: null,
    hour: 23,
  });
  await sql('checkpoint');
  log('retention run: row deletes…');
  const rowRun = await timedRun();
  log(`  ${seconds(rowRun.ms)}: ${JSON.stringify(rowRun.result.embeddings)}`);
  let unfinishedLeft = 0;
  for (const video of unfinished) {
    unfinishedLeft += await database.repos.frameEmbeddings.countInRange(video.id, MODEL, 0, 1e9);
  }
  if (rowRun.result.partitionsDropped.length || unfinishedLeft !== 64 * SAMPLE_DAYS) {
    throw new Error('the row-delete run did not do what this benchmark measures');
  }
  await sql('checkpoint');

  // 2. A month of daily partitions, every video long expired.
  const monthFirst = '2026-11-01';
  const rows = DAYS * FRAMES_PER_NIGHT;
  log(`a month: ${DAYS} days of 1 camera-night, ${rows.toLocaleString()} rows…`);
  let t = performance.now();
  await seedDays({
    firstDay: monthFirst,
    days: DAYS,
    videosPerDay: 1,
    frames: FRAMES_PER_NIGHT,
    dtype: 'float16',
    finishedAt: 'morning',
  });
  const seedMonthMs = performance.now() - t;
  let monthBytes = 0;
  for (let d = 0; d < DAYS; d += 1) monthBytes += await partitionBytes(addDays(monthFirst, d));
  log('loadVectors planning, a month of camera-nights…');
  const planMonth = await planning(probe);
  log(planningLine(planMonth));
  // Copies of three days as plain tables, to time what dropping that many bytes costs the file system alone.
  for (let d = 0; d < PLAIN_DROPS; d += 1) {
    await sql(
      `create table bench_drop_probe_${d} as select * from ${partitionName('frame_embeddings', addDays(monthFirst, d))}`,
    );
  }
  await sql('checkpoint');
  log('retention run: a month of daily partitions…');
  const dropRun = await timedRun();
  log(
    `  ${seconds(dropRun.ms)} (partition pass ${seconds(dropRun.passMs)}, drops ${seconds(dropRun.dropMs)}): ${dropRun.result.partitionsDropped.length} partitions`,
  );
  const again = await timedRun();
  const probeBytes = Number(
    (await sql(`select pg_total_relation_size('bench_drop_probe_0') as bytes`)).rows[0]?.bytes ?? 0,
  );
  const plainDrops: number[] = [];
  for (let d = 0; d < PLAIN_DROPS; d += 1) {
    const client = await database.pool.connect();
    try {
      const t0 = performance.now();
      await client.query('begin');
      await client.query(`drop table bench_drop_probe_${d}`);
      await client.query('commit');
      plainDrops.push(performance.now() - t0);
    } finally {
      client.release();
    }
  }
  const plainDropMs = median(plainDrops);
  const dropped = dropRun.result.partitionsDropped;
  const monthDays = new Set(Array.from({ length: DAYS }, (_, d) => addDays(monthFirst, d)));
  if (
    dropped.length !== DAYS ||
    dropped.some((p) => !monthDays.has(p.day) || p.videos !== 1) ||
    dropRun.result.embeddings.rows !== 0 ||
    again.result.partitionsDropped.length
  ) {
    throw new Error('the month run did not do what this benchmark measures');
  }
  const partitionsAfter = await partitionCount();

  // 4b. A year of daily partitions: every day from a year back to today, each with small recent videos.
  log('a year of daily partitions…');
  t = performance.now();
  await seedYear(YEAR_VIDEOS, YEAR_FRAMES);
  const seedYearMs = performance.now() - t;
  if ((await partitionCount()) !== 365) throw new Error(`expected 365 partitions, found ${await partitionCount()}`);
  log('loadVectors planning, 365 partitions…');
  const planYear = await planning(probe);
  log(planningLine(planYear));
  const yearRun = await timedRun();
  if (yearRun.result.partitionsDropped.length || yearRun.result.embeddings.videos) {
    throw new Error('the run over a year of partitions removed something');
  }

  const cpu = cpus();
  const [float32, float16, reusing] = perHour;
  const checksMs = dropRun.passMs - dropRun.dropMs;
  const otherMs = dropRun.ms - dropRun.passMs;
  const longest = Math.max(...dropped.map((p) => p.lock.ms));
  const rowRate = rowRun.result.embeddings.rows / (rowRun.ms / 1000);
  const report = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim()}, PostgreSQL ${
    (await sql('show server_version')).rows[0]?.server_version
  } with default settings (shared_buffers ${(await sql('show shared_buffers')).rows[0]?.shared_buffers}, max_locks_per_transaction ${
    (await sql('show max_locks_per_transaction')).rows[0]?.max_locks_per_transaction
  }), by \`npm run retention -w @vad/bench\` (bench/retention/run.ts). frame_embeddings is partitioned by the UTC day of each video's recording (\`frame_embeddings_d20261130\`). Rows generated in SQL, ${DIM}-d vectors drawn from 1,024 random byte strings.

### Bytes per camera-hour (${hourFrames.toLocaleString()} rows at ${FPS} fps)

\`frame_embeddings\` as PostgreSQL stores it (heap, TOAST, primary key: \`pg_total_relation_size\` of the day's partition after VACUUM ANALYZE, 4 camera-hours per kind, divided by 4):

| vectors | per camera-hour | rows with a vector / reusing one | vector bytes (storageOf) |
| --- | ---: | ---: | ---: |
${perHour
  .map(
    (k) =>
      `| ${k.name} | ${mib(k.bytes)} | ${k.storage.encoded.toLocaleString()} / ${k.storage.reused.toLocaleString()} | ${mib(k.storage.payload)} |`,
  )
  .join('\n')}

float16 takes ${(((float16?.bytes ?? 0) / (float32?.bytes ?? 1)) * 100).toFixed(0)} % of float32; with 9 frames in 10 reusing a vector, ${(((reusing?.bytes ?? 0) / (float16?.bytes ?? 1)) * 100).toFixed(0)} % of float16 (a reused row still costs its tuple and its primary-key entry, about ${(((reusing?.bytes ?? 0) - ((float16?.bytes ?? 0) * 1) / 10) / ((hourFrames * 9) / 10)).toFixed(0)} bytes).

### A retention run over a month of daily partitions

${DAYS} daily partitions of one camera-night each, ${HOURS} h at ${FPS} fps = ${rows.toLocaleString()} float16 rows in all (${mib(monthBytes)}, ${seconds(seedMonthMs)} to generate and vacuum), every video ended long before the cutoff (${RETAIN_DAYS} days of embeddings retention), beside ${SAMPLE_DAYS} older days kept by a video still embedding and 3 recent days. One whole \`RetentionService.run()\` (job records in Redis, the partitions looked at, the ${DAYS} days dropped in ${dropRun.transactions} transactions of up to 512 MiB, the remaining expired videos' rows looked for):

| part of the run | time |
| --- | ---: |
| **whole run** | **${seconds(dropRun.ms)}** |
| the DROPs: ${dropRun.transactions} transactions, each from its lock on \`frame_embeddings\` to its commit (the files freed), summed | ${seconds(dropRun.dropMs)} (longest ${msec(longest)}; ${msec(dropRun.dropMs / DAYS)} a day) |
| the checks: deciding which days can go (one query for all of them), and in each transaction, before the table lock, locking its videos | ${seconds(checksMs)} |
| the rest of the run (job records in Redis, the row-delete pass finding nothing) | ${seconds(otherMs)} |
| the run after (nothing to remove, ${partitionsAfter} partitions left) | ${seconds(again.ms)} |

The DROPs are the file system's work: a plain \`DROP TABLE\` of a copy of one day (${mib(probeBytes)}), committed, took ${msec(plainDropMs)} here (median of ${PLAIN_DROPS}): ${msec(plainDropMs / (probeBytes / 2 ** 20))} per MiB, about ${seconds((plainDropMs / probeBytes) * monthBytes)} for the month's ${mib(monthBytes)}, the floor of this run on this disk.${
    (await discardMount())
      ? " PostgreSQL's data directory is on a file system mounted with `discard`, which trims the freed blocks before the unlink returns; mounted without it (with a periodic `fstrim` instead), most of that wait should go: not measured here."
      : ''
  } The days are dropped in transactions of up to 512 MiB (the day just expired, alone, in a daily run), so queries of frame_embeddings wait at most one transaction's window (the longest above), not the month's.

### The row-delete path on the same data (a sample, extrapolated)

Measured on a sample: ${SAMPLE_DAYS} days of the same camera-nights (${(SAMPLE_DAYS * FRAMES_PER_NIGHT).toLocaleString()} rows), each day also holding a video still embedding, so retention keeps the partitions and deletes the expired videos' rows in batches of 20 videos (what every day the partitions cannot drop goes through). One whole run: ${seconds(rowRun.ms)} for ${rowRun.result.embeddings.rows.toLocaleString()} rows (${Math.round(rowRate).toLocaleString()} rows/s); the unfinished videos kept their rows. **At that rate the month's ${rows.toLocaleString()} rows would take about ${seconds((rows / rowRate) * 1000)}** (extrapolated, not measured; row deletes also leave dead tuples for VACUUM and write WAL for every row), against ${seconds(dropRun.ms)} for the run that drops them.

### What daily partitions cost queries by video, with and without the day named

A query by \`video_id\` alone, without the partition key, makes PostgreSQL plan every partition, probe each one's index, and lock every partition and its index. The repositories now name the day (\`recorded_day = $day\`, known before planning: the day this process last found the video's rows on, or the UTC day of its recording read from its \`videos\` row, checked against what is found, see packages/db/src/day-hints.ts), so only that partition is planned and locked. \`EXPLAIN ANALYZE\` of \`loadVectors\`' query for one of ${YEAR_VIDEOS} videos of ${YEAR_FRAMES} frames on a day (the other days hold the same), by \`video_id\` alone and with its day named, median of ${PLANNING_RUNS}; locks held inside a transaction after it; beside them, the round trips of \`countInRange()\` over one 64-frame segment (what the embed worker asks per segment) and of \`loadVectors()\` through the repository (its day hint kept), median of ${PLANNING_RUNS}:

| daily partitions | query | planning | execution | planning as a new connection's first query | locks held | plan |
| --- | --- | ---: | ---: | ---: | ---: | --- |
${(
  [
    [planOne, "the video's day alone"],
    [planMonth, `the month's ${DAYS} camera-nights, the row-delete sample's days and the recent days`],
    [planYear, `the month's days dropped, every day of the year with ${YEAR_VIDEOS} videos of ${YEAR_FRAMES} frames`],
  ] as [Planning, string][]
)
  .flatMap(([p, what]) =>
    (
      [
        [p.unhinted, `**${p.partitions}**: ${what}`, 'by `video_id` alone'],
        [p.hinted, `**${p.partitions}**`, 'day named'],
      ] as [QueryPlanning, string, string][]
    ).map(
      ([q, partitions, query]) =>
        `| ${partitions} | ${query} | ${msec(q.planMs)} | ${msec(q.execMs)} | ${msec(q.coldPlanMs)} | ${q.locks} | ${q.shape} |`,
    ),
  )
  .join('\n')}

| daily partitions | \`countInRange()\` | \`loadVectors()\` |
| --- | ---: | ---: |
${[planOne, planMonth, planYear].map((p) => `| ${p.partitions} | ${msec(p.countMs)} | ${msec(p.loadMs)} |`).join('\n')}

With ${planYear.partitions} partitions a query by \`video_id\` alone holds ${planYear.unhinted.locks} locks, far beyond the 16 a backend keeps outside the shared lock table: that table has room for max_locks_per_transaction × (max_connections + max_prepared_transactions) locks (64 × 100 = 6,400 by default), shared by all sessions, so a few such queries at once can run it out ("out of shared memory"); with its day named it holds ${planYear.hinted.locks}. The repositories still read every day where the hint finds nothing of the video (its first rows not written yet, or written on a day its recording time no longer gives), and foreign-key cascades (deleting a video or a replaced scoring run) always do; where a year or more is retained (or none of VAD_RETAIN_EMBEDDINGS_DAYS / VAD_RETAIN_RESULTS_DAYS is set), raising max_locks_per_transaction is still advisable. A retention run over the ${planYear.partitions} partitions with nothing to drop took ${seconds(yearRun.ms)} (partition pass ${seconds(yearRun.passMs)}: a day that a video inside retention was recorded on is kept without reading its rows). The year's small days took ${seconds(seedYearMs)} to create.

Whole benchmark ${((performance.now() - started) / 1000).toFixed(0)} s.
`;
  await writeFile(args.out, report);
  console.log(report);
} finally {
  for (const cleanup of cleanups) {
    await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
  }
}
