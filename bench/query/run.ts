/**
 * bench/query: the morning's questions against a month of results.
 *
 * Seeds Postgres with 100 cameras × 30 nights (3,000 videos, one current
 * scoring run each), 1,000,000 clip scores and 50,000 events, then measures
 * the common queries through the HTTP API (real sockets, auth, validation,
 * serialisation) beside the same SQL sent straight to Postgres, which is
 * the floor the API can approach. EXPLAIN (ANALYZE, BUFFERS) shows which
 * index each query uses.
 *
 *   npm run bench:query -- [--cameras 100] [--nights 30] [--clips 1000000] [--events 50000] [--requests 300]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, createApiContext } from '@vad/api';
import { createApiToken, createLogger } from '@vad/config';
import { createDatabase, createRepositories } from '@vad/db';
import { percentile } from '@vad/pipeline';
import { createTestConfig, createTestDatabase, createTestRedis } from '@vad/testing';

const { values: args } = parseArgs({
  options: {
    cameras: { type: 'string', default: '100' },
    nights: { type: 'string', default: '30' },
    clips: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '50000' },
    requests: { type: 'string', default: '300' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'query.md') },
  },
});
const cameras = Number(args.cameras);
const nights = Number(args.nights);
const videos = cameras * nights;
const clipsPerVideo = Math.round(Number(args.clips) / videos);
const eventsPerVideo = Math.max(1, Math.round(Number(args.events) / videos));
const requests = Number(args.requests);
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

const database = await createTestDatabase();
const redis = createTestRedis();
const token = createApiToken('bench', 'read');
const config = createTestConfig({
  databaseUrl: database.url,
  redisUrl: redis.url,
  prefix: redis.prefix,
  env: { VAD_API_TOKENS: token.entry },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

async function seed(): Promise<number> {
  const started = performance.now();
  const sql = (text: string, values: unknown[] = []) => database.pool.query(text, values);
  const labels = `(array[${classes.map((c) => `'${c}'`).join(',')}])`;
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
  await sql(
    `insert into clip_scores (scoring_run_id, clip_index, video_id, start_ms, end_ms, valid_frames, anomaly_score, label, probabilities)
     select r.id, k, r.video_id, k * ${CLIP_MS}, k * ${CLIP_MS} + 8000, 16, s, ${labels}[1 + (k % ${classes.length})], ${probabilities}
     from scoring_runs r cross join generate_series(0, $1 - 1) k cross join lateral (select random()::real * 0.6 as s) x`,
    [clipsPerVideo],
  );
  log(`seeding ${(videos * eventsPerVideo).toLocaleString()} events…`);
  await sql(
    `insert into anomaly_events (video_id, camera_id, scoring_run_id, start_ms, end_ms, peak_ms, start_at, end_at, peak_score, label, thumbnail_path, current)
     select v.id, v.camera_id, v.current_run_id, o, o + 12000, o + 5000,
            v.recorded_at + make_interval(secs => o / 1000.0), v.recorded_at + make_interval(secs => (o + 12000) / 1000.0),
            0.5 + random() * 0.5, ${labels}[1 + floor(random() * ${classes.length})::int], null, true
     from videos v cross join generate_series(0, $1 - 1) k
     cross join lateral (select (k * ($2 / $1) + floor(random() * 60000))::int as o) x`,
    [eventsPerVideo, videoMs - 20_000],
  );
  await sql('vacuum analyze');
  return (performance.now() - started) / 1000;
}

interface Query {
  name: string;
  /** An API path for request i. */
  path: (i: number) => string;
  /** The same question as the repository asks it, for the SQL floor and EXPLAIN. */
  direct: (i: number) => Promise<unknown>;
}

const night = (i: number) => {
  const start = firstNight + (i % nights) * 86_400_000;
  return { since: new Date(start), until: new Date(start + 8 * 3_600_000) };
};
const camera = (i: number) => `cam-${String(1 + ((i * 37) % cameras)).padStart(3, '0')}`;

const seconds = await seed();
log(`seeded in ${seconds.toFixed(0)} s`);

// The SQL floor: the repositories on a pool of their own, recording the statements they send.
const direct = createDatabase(database.url, { max: 2, applicationName: 'vad-bench' });
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
];

const context = createApiContext(config, createLogger({ log: { level: 'warn' } }, 'bench'));
const app = await buildApp(context);
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const headers = { authorization: `Bearer ${token.token}` };

async function latencies(run: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 30; i++) await run(i + 10_000); // warm-up: plans, pools, caches
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const rows: string[] = [];
const plans: string[] = [];
for (const q of queries) {
  const sqlTimes = await latencies(q.direct);
  const apiTimes = await latencies(async (i) => {
    const response = await fetch(`${base}${q.path(i)}`, { headers });
    if (response.status !== 200) throw new Error(`${q.path(i)}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  });
  const f = (v: number | null) => (v ?? 0).toFixed(1);
  rows.push(
    `| ${q.name} | ${f(percentile(sqlTimes, 50))} | ${f(percentile(sqlTimes, 95))} | ${f(percentile(apiTimes, 50))} | ${f(percentile(apiTimes, 95))} | ${(percentile(apiTimes, 95) ?? 0) < 20 ? 'yes' : '**no**'} |`,
  );
  log(rows.at(-1) ?? '');
  // EXPLAIN the statement(s) one request sends, with its parameters.
  statements.length = 0;
  await q.direct(7);
  for (const statement of statements.filter((s) => /anomaly_events|clip_scores/.test(s.text))) {
    const plan = await direct.pool.query(`explain (analyze, buffers, costs off) ${statement.text}`, statement.values);
    plans.push(
      `#### ${q.name}\n\n\`\`\`\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n\`\`\``,
    );
  }
}

const sizes = (
  await direct.pool.query(
    `select relname as table, n_live_tup as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
     from pg_stat_user_tables where relname in ('clip_scores', 'anomaly_events', 'videos') order by relname`,
  )
).rows as { table: string; rows: number; size: string }[];

const report = `### Query latency (bench/query)

${cameras} cameras × ${nights} nights = ${videos.toLocaleString()} videos; ${(videos * clipsPerVideo).toLocaleString()} clip scores; ${(videos * eventsPerVideo).toLocaleString()} events (seeded in ${seconds.toFixed(0)} s).
${sizes.map((s) => `\`${s.table}\` ${Number(s.rows).toLocaleString()} rows, ${s.size}`).join('; ')}.
${requests} sequential requests per query after 30 warm-up ones; milliseconds. "SQL" is the repository's own statements
on a direct connection (the floor); "API" is HTTP through Fastify with auth, validation and serialisation.

| query | SQL p50 | SQL p95 | API p50 | API p95 | API p95 < 20 ms |
|---|---:|---:|---:|---:|:---:|
${rows.join('\n')}

<details><summary>EXPLAIN (ANALYZE, BUFFERS)</summary>

${plans.join('\n\n')}

</details>
`;
await writeFile(args.out, report);
process.stdout.write(report);

await app.close();
await context.close();
await direct.close();
await database.destroy();
await redis.destroy();
