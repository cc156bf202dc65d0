/**
 * bench/query: the morning's questions against a month of results.
 *
 * Seeds Postgres with 100 cameras × 30 nights (3,000 videos, one current
 * scoring run each) and 1,000,000 clip scores, then, for each events count
 * asked for (100,000 and 1,000,000 by default; the events are re-seeded in
 * between), measures the common queries through the HTTP API (real sockets,
 * auth, validation, serialisation) beside the same SQL sent straight to
 * Postgres, which is the floor the API can approach, and puts GET /v1/events
 * (no filter: the dashboard's first page, newest or highest score first)
 * under concurrent load with autocannon. EXPLAIN (ANALYZE, BUFFERS) shows
 * which index each query uses. Everything is seeded with INSERT … SELECT
 * over generate_series; the database, the Redis keys and the storage folder
 * it creates are removed at the end, also when it fails.
 *
 *   npm run bench:query -- [--events 100000,1000000] [--cameras 100] [--nights 30] [--clips 1000000]
 *                          [--requests 300] [--warmup 30] [--connections 50] [--duration 10]
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApiToken, createLogger } from '@vad/config';
import { createDatabase, createRepositories, type EventQuery } from '@vad/db';
import { buildApp, createApiContext } from '@vad/http';
import { percentile } from '@vad/operations';
import { createTestConfig, createTestDatabase, createTestRedis } from '@vad/testing';

const { values: args } = parseArgs({
  options: {
    cameras: { type: 'string', default: '100' },
    nights: { type: 'string', default: '30' },
    clips: { type: 'string', default: '1000000' },
    /** One run per count, comma-separated. */
    events: { type: 'string', default: '100000,1000000' },
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    connections: { type: 'string', default: '50' },
    /** Seconds of concurrent load per route (after 2 s of the same load, not measured). */
    duration: { type: 'string', default: '10' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'query.md') },
  },
});
const cameras = Number(args.cameras);
const nights = Number(args.nights);
const videos = cameras * nights;
const clipsPerVideo = Math.round(Number(args.clips) / videos);
const eventCounts = args.events.split(',').map((n) => Number(n.replaceAll('_', '')));
const requests = Number(args.requests);
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const duration = Number(args.duration);
const firstNight = Date.UTC(2026, 9, 1, 22, 0, 0); // 2026-10-01 22:00 UTC
const CLIP_MS = 4000; // 16 frames every 8 at 2 fps
const videoMs = clipsPerVideo * CLIP_MS + 4000;
const classes = [
  'Abuse',
  'Arrest',
  'Arson',
  'Assault',
  'Burglary',
  'Explosion',
  'Fighting',
  'RoadAccidents',
  'Robbery',
  'Shooting',
  'Shoplifting',
  'Stealing',
  'Vandalism',
];
const labels = `(array[${classes.map((c) => `'${c}'`).join(',')}])`;
if (eventCounts.some((n) => !Number.isInteger(n) || n < videos)) {
  throw new Error(`--events: whole numbers of at least one per video (${videos})`);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const f = (v: number | null | undefined, digits = 1) => (v ?? 0).toFixed(digits);
const started = performance.now();
const loadBefore = loadavg();

const database = await createTestDatabase();
const redis = createTestRedis();
const token = createApiToken('bench', 'read');
const config = createTestConfig({
  databaseUrl: database.url,
  redisUrl: redis.url,
  prefix: redis.prefix,
  env: { VAD_API_TOKENS: token.entry },
});
const cleanups: (() => Promise<unknown>)[] = [
  () => database.destroy(),
  () => redis.destroy(),
  () => rm(config.storage.root, { recursive: true, force: true }),
];
const sql = (text: string, values: unknown[] = []) => database.pool.query(text, values);

/** Cameras, videos with one current scoring run each, and their clip scores. */
async function seedVideos(): Promise<number> {
  const t0 = performance.now();
  await sql('select setseed(0.42)');
  await sql(`insert into cameras (name) select 'cam-' || lpad(g::text, 3, '0') from generate_series(1, $1) g`, [
    cameras,
  ]);
  await sql(
    `insert into videos (camera_id, source_uri, sha256, bytes, duration_ms, fps, width, height, codec, recorded_at,
                         status, model, pipeline_config, config_hash, ingest_started_at, finished_at)
     select c.id, '/footage/' || c.name || '/' || d || '.mp4', md5(c.name || d), 1000000000, $1, 25, 1920, 1080, 'h264',
            to_timestamp($2 / 1000.0) + make_interval(days => d), 'done', 'clip-vit-base-patch32', '{}'::jsonb, 'bench',
            to_timestamp($2 / 1000.0) + make_interval(days => d, hours => 8),
            to_timestamp($2 / 1000.0) + make_interval(days => d, hours => 9)
     from cameras c cross join generate_series(0, $3 - 1) d`,
    [videoMs, firstNight, nights],
  );
  await sql(
    `insert into scoring_runs (video_id, model, prompt_set, aggregator, params, config_hash)
     select id, model, 'ucf-crime', 'attention', '{"threshold":0.5}'::jsonb, 'bench' from videos`,
  );
  await sql('update videos v set current_run_id = r.id from scoring_runs r where r.video_id = v.id');
  log(`seeding ${(videos * clipsPerVideo).toLocaleString()} clip scores…`);
  const probabilities = `jsonb_build_object('normal', 1 - s${classes.map((c) => `, '${c}', s / ${classes.length}`).join('')})`;
  // clip_scores is partitioned by the UTC day of each video's recording (migration 0009): create those days first.
  const day = `(coalesce(v.recorded_at, v.created_at) at time zone 'UTC')::date`;
  await sql(`select vad_ensure_day_partition('clip_scores', d) from (select distinct ${day} as d from videos v) days`);
  await sql(
    `insert into clip_scores (scoring_run_id, clip_index, video_id, start_ms, end_ms, valid_frames, anomaly_score, label, probabilities, recorded_day)
     select r.id, k, r.video_id, k * ${CLIP_MS}, k * ${CLIP_MS} + 8000, 16, s, ${labels}[1 + (k % ${classes.length})], ${probabilities}, ${day}
     from scoring_runs r join videos v on v.id = r.video_id
     cross join generate_series(0, $1 - 1) k cross join lateral (select random()::real * 0.6 as s) x`,
    [clipsPerVideo],
  );
  return (performance.now() - t0) / 1000;
}

/** Exactly `count` current events, spread evenly over the videos' runs (replacing earlier ones). */
async function seedEvents(count: number): Promise<number> {
  const t0 = performance.now();
  log(`seeding ${count.toLocaleString()} events…`);
  await sql('truncate anomaly_events, event_reviews restart identity');
  const perVideo = Math.ceil(count / videos);
  await sql(
    `insert into anomaly_events (video_id, camera_id, scoring_run_id, start_ms, end_ms, peak_ms, start_at, end_at, peak_score, label, thumbnail_path, current)
     select v.id, v.camera_id, v.current_run_id, o, o + 12000, o + 5000,
            v.recorded_at + make_interval(secs => o / 1000.0), v.recorded_at + make_interval(secs => (o + 12000) / 1000.0),
            0.5 + random() * 0.5, ${labels}[1 + floor(random() * ${classes.length})::int], null, true
     from generate_series(0, $1 - 1) g
     join (select *, row_number() over (order by id) - 1 as n from videos) v on v.n = g % $2::int
     cross join lateral (select ((g / $2::int) * ($3::int / $4::int) + floor(random() * 60000))::int as o) x`,
    [count, videos, videoMs - 20_000, perVideo],
  );
  await sql('vacuum analyze');
  return (performance.now() - t0) / 1000;
}

const night = (i: number) => {
  const start = firstNight + (i % nights) * 86_400_000;
  return { since: new Date(start), until: new Date(start + 8 * 3_600_000) };
};
const camera = (i: number) => `cam-${String(1 + ((i * 37) % cameras)).padStart(3, '0')}`;

interface Query {
  name: string;
  /** An API path for request i. */
  path: (i: number) => string;
  /** The same question as the repository asks it, for the SQL floor and EXPLAIN. */
  direct: (i: number) => Promise<unknown>;
}

interface LoadResult {
  seconds: number;
  requests: number;
  errors: number;
  /** Milliseconds, sorted. */
  latencies: number[];
}

/**
 * A closed loop of `connections` clients for `duration` seconds (after 2 s of the same load, not measured), in a
 * child process (bench/query/load.ts) so that the load generator does not share the API's event loop: autocannon
 * against a URL, or a statement sent straight to PostgreSQL.
 */
function load(
  target:
    | { url: string; headers: Record<string, string> }
    | { sql: { databaseUrl: string; text: string; values: unknown[] } },
): Promise<LoadResult> {
  const options = { ...target, connections, duration, warmup: 2 };
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(import.meta.dirname, 'load.ts'), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load.ts exited with ${code}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}

const sections: string[] = [];
const summary: string[] = [];
try {
  const videoSeconds = await seedVideos();
  log(`videos and clip scores seeded in ${videoSeconds.toFixed(0)} s`);

  // The SQL floor: the repositories on a pool of their own, recording the statements they send.
  const direct = createDatabase(database.url, { max: 2, applicationName: 'vad-bench' });
  cleanups.unshift(() => direct.close());
  const repos = createRepositories(direct.db);
  const statements: { text: string; values: unknown[] }[] = [];
  const query = direct.pool.query.bind(direct.pool) as (...a: unknown[]) => Promise<unknown>;
  (direct.pool as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...a: unknown[]) => {
    const [config, params] = a as [{ text?: string; values?: unknown[] } | string, unknown];
    if (typeof config === 'object' && config?.text) {
      statements.push({ text: config.text, values: config.values ?? (Array.isArray(params) ? params : []) });
    } else if (typeof config === 'string' && !config.startsWith('explain')) {
      statements.push({ text: config, values: Array.isArray(params) ? params : [] });
    }
    return query(...a);
  };
  const sample = (await direct.pool.query('select id from videos order by random() limit 500')).rows.map(
    (r: { id: string }) => r.id,
  );

  const context = createApiContext(config, createLogger({ log: { level: 'warn' } }, 'bench'));
  const app = await buildApp(context);
  cleanups.unshift(
    () => app.close(),
    () => context.close(),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const headers = { authorization: `Bearer ${token.token}` };
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<{ items: { id: number; startAt: string | null }[]; nextCursor: string | null }>;
  };

  async function latencies(run: (i: number) => Promise<unknown>): Promise<number[]> {
    for (let i = 0; i < warmup; i++) await run(i + 10_000); // warm-up: plans, pools, caches
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      await run(i);
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  }

  /** Waits until the API's connections are idle (after a load whose slowest requests outlive it). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const { rows } = await sql(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and application_name in ('vad-api', 'vad-bench-load') and state = 'active'`,
      );
      if ((rows[0] as { n: number }).n === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const PAGES = 20;
  for (const count of eventCounts) {
    const eventSeconds = await seedEvents(count);
    log(`${count.toLocaleString()} events seeded in ${eventSeconds.toFixed(0)} s`);

    // Pages 2–21 of the unfiltered listing, as a client reaches them: by the previous page's nextCursor.
    const cursors: string[] = [];
    const keysets: NonNullable<EventQuery['after']>[] = [];
    for (let page = await get('/v1/events?limit=50'); cursors.length < PAGES && page.nextCursor; ) {
      cursors.push(page.nextCursor);
      const last = page.items.at(-1);
      if (last?.startAt) keysets.push({ key: Date.parse(last.startAt), id: last.id });
      page = await get(`/v1/events?limit=50&cursor=${page.nextCursor}`);
    }

    const queries: Query[] = [
      {
        name: 'events of one camera for one night',
        path: (i) => {
          const { since, until } = night(i);
          return `/v1/events?camera=${camera(i)}&since=${since.toISOString()}&until=${until.toISOString()}&limit=100`;
        },
        direct: (i) => repos.scoring.findEvents({ camera: camera(i), ...night(i), limit: 100 }),
      },
      {
        name: 'top 50 events of a night, all cameras',
        path: (i) => {
          const { since, until } = night(i);
          return `/v1/events?since=${since.toISOString()}&until=${until.toISOString()}&order=score&limit=50`;
        },
        direct: (i) => repos.scoring.findEvents({ ...night(i), order: 'score', limit: 50 }),
      },
      {
        name: "one video's timeline (clips + events)",
        path: (i) => `/v1/videos/${sample[i % sample.length]}/scores`,
        direct: async (i) => {
          const id = sample[i % sample.length] as string;
          const run = await repos.scoring.latestRun(id);
          return Promise.all([repos.scoring.clipsOf(run?.id ?? ''), repos.scoring.eventsOf(run?.id ?? '')]);
        },
      },
      {
        name: 'latest 50 events, all cameras (no filter)',
        path: () => '/v1/events?limit=50',
        direct: () => repos.scoring.findEvents({ limit: 50 }),
      },
      {
        name: 'top 50 events, all cameras (no filter)',
        path: () => '/v1/events?order=score&limit=50',
        direct: () => repos.scoring.findEvents({ order: 'score', limit: 50 }),
      },
      {
        name: `latest events, all cameras, pages 2–${PAGES + 1} (cursor)`,
        path: (i) => `/v1/events?limit=50&cursor=${cursors[i % cursors.length]}`,
        direct: (i) => repos.scoring.findEvents({ limit: 50, after: keysets[i % keysets.length] }),
      },
    ];

    const rows: string[] = [];
    const plans: string[] = [];
    for (const q of queries) {
      const sqlTimes = await latencies(q.direct);
      const apiTimes = await latencies((i) => get(q.path(i)));
      rows.push(
        `| ${q.name} | ${f(percentile(sqlTimes, 50))} | ${f(percentile(sqlTimes, 95))} | ${f(percentile(apiTimes, 50))} | ${f(percentile(apiTimes, 95))} | ${(percentile(apiTimes, 95) ?? 0) < 20 ? 'yes' : '**no**'} |`,
      );
      log(rows.at(-1) ?? '');
      // EXPLAIN the statement(s) one request sends, with its parameters.
      statements.length = 0;
      await q.direct(7);
      for (const statement of statements.filter((s) => /anomaly_events|clip_scores/.test(s.text))) {
        const plan = await direct.pool.query(
          `explain (analyze, buffers, costs off) ${statement.text}`,
          statement.values,
        );
        plans.push(
          `#### ${q.name}\n\n\`\`\`\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n\`\`\``,
        );
      }
    }

    // Concurrent load on the real route, beside the same statements straight to PostgreSQL and an HTTP route
    // without a database (the ceiling of HTTP on this machine).
    const statementOf = async (q: EventQuery) => {
      statements.length = 0;
      await repos.scoring.findEvents(q);
      const statement = statements.find((s) => s.text.includes('"anomaly_events"'));
      if (!statement) throw new Error('findEvents sent no statement');
      return { databaseUrl: database.url, ...statement };
    };
    const targets = [
      { name: 'GET /v1/events (newest first)', target: { url: `${base}/v1/events?limit=50`, headers } },
      { name: 'GET /v1/events?order=score', target: { url: `${base}/v1/events?order=score&limit=50`, headers } },
      { name: 'SQL floor: its newest-first statement', target: { sql: await statementOf({ limit: 50 }) } },
      {
        name: 'SQL floor: its highest-score statement',
        target: { sql: await statementOf({ order: 'score', limit: 50 }) },
      },
      { name: 'GET /healthz (no database: the HTTP ceiling)', target: { url: `${base}/healthz`, headers } },
    ];
    const loads: string[] = [];
    for (const { name, target } of targets) {
      await settle();
      const load1 = loadavg()[0] ?? 0;
      const result = await load(target);
      await settle();
      const t = result.latencies;
      const p95 = percentile(t, 95);
      loads.push(
        `| ${name} | ${connections} | ${result.requests.toLocaleString()} | ${f(result.requests / result.seconds, 0)} | ${f(percentile(t, 50))} | ${f(p95)} | ${f(percentile(t, 99))} | ${f(t.at(-1))} | ${result.errors} | ${f(load1, 2)} | ${p95 !== null && p95 < 20 ? 'yes' : '**no**'} |`,
      );
      log(loads.at(-1) ?? '');
      summary.push(
        `${count.toLocaleString()} events, ${name}: ${f(result.requests / result.seconds, 0)} req/s, p50 ${f(percentile(t, 50))} ms, p95 ${f(p95)} ms, p99 ${f(percentile(t, 99))} ms`,
      );
    }

    const sizes = (
      await sql(
        // A partitioned table (clip_scores) is the sum of its partitions.
        `select coalesce(i.inhparent::regclass::text, s.relname) as table, sum(s.n_live_tup) as rows,
                pg_size_pretty(sum(pg_total_relation_size(s.relid))) as size
         from pg_stat_user_tables s left join pg_inherits i on i.inhrelid = s.relid
         where coalesce(i.inhparent::regclass::text, s.relname) in ('clip_scores', 'anomaly_events', 'videos')
         group by 1 order by 1`,
      )
    ).rows as { table: string; rows: number; size: string }[];

    sections.push(`### Query latency (bench/query), ${count.toLocaleString()} events

${cameras} cameras × ${nights} nights = ${videos.toLocaleString()} videos; ${(videos * clipsPerVideo).toLocaleString()} clip scores; ${count.toLocaleString()} events (videos and clips seeded in ${videoSeconds.toFixed(0)} s, events in ${eventSeconds.toFixed(0)} s).
${sizes.map((s) => `\`${s.table}\` ${Number(s.rows).toLocaleString()} rows, ${s.size}`).join('; ')}.
${requests} sequential requests per query after ${warmup} warm-up ones; milliseconds. "SQL" is the repository's own statements
on a direct connection (the floor); "API" is HTTP through Fastify with auth, validation and serialisation.

| query | SQL p50 | SQL p95 | API p50 | API p95 | API p95 < 20 ms |
|---|---:|---:|---:|---:|:---:|
${rows.join('\n')}

#### Concurrent load (autocannon)

${connections} connections for ${duration} s (after 2 s of the same load, not counted), each sending its next request as soon as
the previous one is answered; latency per request in milliseconds, over every successful response. "SQL floor" is the
statement the route sends, from ${connections} connections straight to PostgreSQL; GET /healthz answers without a database.
The load generator runs in a process of its own; it, the API (one Node.js process) and PostgreSQL share the machine's
${availableParallelism()} cores. "load" is the 1-minute load average when the run started.

| route | connections | requests | req/s | p50 | p95 | p99 | max | errors | load | p95 < 20 ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|
${loads.join('\n')}

<details><summary>EXPLAIN (ANALYZE, BUFFERS), ${count.toLocaleString()} events</summary>

${plans.join('\n\n')}

</details>
`);
  }

  const minutes = (performance.now() - started) / 60_000;
  const { rows: version } = await sql(`select split_part(version(), ' ', 2) as v`);
  const report = `Measured ${new Date().toISOString().slice(0, 10)} on ${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'CPU'}; PostgreSQL ${(version[0] as { v: string }).v} with default settings.
1-minute load average before the run: ${f(loadBefore[0], 2)} (other work on the machine); the run took ${f(minutes)} min.

${sections.join('\n')}`;
  await writeFile(args.out, report);
  process.stdout.write(report);
  log(summary.join('\n'));
} finally {
  for (const cleanup of cleanups) {
    await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
}
