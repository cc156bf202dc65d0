import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  dropDatabase,
  type EventQuery,
  type EventRow,
  migrateDatabase,
  type Repositories,
} from '../src/index.js';

// @vad/testing depends on this package, so these tests make their own database.
const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** The keyset the API puts in its cursor for a page's last row. */
const keysetOf = (row: EventRow, order: 'time' | 'score') => ({
  key: order === 'time' ? (row.startAt?.getTime() ?? 0) : row.peakScore,
  id: row.id,
});

/**
 * GET /v1/events reads the current events through the partial indexes
 * (`… DESC NULLS LAST, id DESC NULLS LAST WHERE current`). The listing has to
 * ask for exactly that order: with a plain `DESC` (NULLS FIRST) PostgreSQL
 * reads and sorts every current event for each page.
 */
describe('event listing', () => {
  const url = `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;
  let handle: DatabaseHandle;
  let repos: Repositories;
  /** The statements the repository sends, with their parameters. */
  const statements: { text: string; values: unknown[] }[] = [];
  /** Every event: id, start time (epoch ms or null), peak score, camera name, current, its review's verdict. */
  let all: {
    id: number;
    startAt: number | null;
    peakScore: number;
    camera: string | null;
    current: boolean;
    verdict: 'true' | 'false' | null;
  }[];

  beforeAll(async () => {
    await migrateDatabase(url);
    handle = createDatabase(url, { max: 2 });
    repos = createRepositories(handle.db);
    const query = handle.pool.query.bind(handle.pool) as (...a: unknown[]) => Promise<unknown>;
    (handle.pool as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...a: unknown[]) => {
      const [config, values] = a as [{ text?: string; values?: unknown[] } | string, unknown];
      if (typeof config === 'object' && config.text) {
        statements.push({ text: config.text, values: config.values ?? (Array.isArray(values) ? values : []) });
      }
      return query(...a);
    };
    const sql = (text: string) => handle.pool.query(text);
    // 3 cameras and a camera-less source, 10 videos each, one current scoring run each
    // (and an earlier run whose events are no longer current).
    await sql(`insert into cameras (name) values ('cam-1'), ('cam-2'), ('cam-3')`);
    await sql(
      `insert into videos (camera_id, source_uri, sha256, bytes, recorded_at, status, model, pipeline_config, config_hash)
       select c, '/footage/' || coalesce(c, 0) || '/' || d || '.mp4', md5(coalesce(c, 0) || '-' || d), 1,
              case when d % 5 = 4 then null else timestamptz '2026-10-01 22:00Z' + make_interval(days => d) end,
              'done', 'm', '{}', 'h'
       from (values (1), (2), (3), (null::int)) cams(c) cross join generate_series(0, 9) d`,
    );
    await sql(
      `insert into scoring_runs (video_id, model, prompt_set, aggregator, params, config_hash)
       select id, 'm', 'p', 'a', '{}', h from videos cross join (values ('old'), ('new')) hashes(h)`,
    );
    await sql(
      `update videos v set current_run_id = r.id from scoring_runs r where r.video_id = v.id and r.config_hash = 'new'`,
    );
    // 75 events a run: start times in tied threes, none for videos without a recording time;
    // peak scores on a 0.05 grid, so page boundaries fall inside runs of equal keys.
    await sql(
      `insert into anomaly_events (video_id, camera_id, scoring_run_id, start_ms, end_ms, peak_ms, start_at, end_at,
                                   peak_score, label, current)
       select v.id, v.camera_id, r.id, (k / 3) * 1000, (k / 3) * 1000 + 8000, (k / 3) * 1000 + 4000,
              v.recorded_at + make_interval(secs => k / 3), v.recorded_at + make_interval(secs => k / 3 + 8),
              round((0.5 + 0.5 * (abs(hashtext(v.id::text)::bigint + k * 7919) % 1000) / 1000.0) * 20) / 20,
              'Abuse', r.id = v.current_run_id
       from videos v join scoring_runs r on r.video_id = v.id cross join generate_series(0, 74) k`,
    );
    // Operators reviewed about one event in eight (current ones and earlier runs'), true or false alarms.
    await sql(
      `insert into event_reviews (video_id, event_id, start_ms, end_ms, label, verdict, reviewed_by)
       select video_id, id, start_ms, end_ms, label,
              case when abs(hashtext(id::text)) % 16 = 0 then 'true' else 'false' end::review_verdict, 'tester'
       from anomaly_events where abs(hashtext(id::text)) % 8 = 0`,
    );
    await sql('analyze');
    const rows = await handle.pool.query<{
      id: string;
      start_at: Date | null;
      peak_score: number;
      camera: string | null;
      current: boolean;
      verdict: 'true' | 'false' | null;
    }>(
      `select e.id, e.start_at, e.peak_score, c.name as camera, e.current, r.verdict
       from anomaly_events e left join cameras c on c.id = e.camera_id left join event_reviews r on r.event_id = e.id`,
    );
    all = rows.rows.map((r) => ({
      id: Number(r.id),
      startAt: r.start_at?.getTime() ?? null,
      peakScore: r.peak_score,
      camera: r.camera,
      current: r.current,
      verdict: r.verdict,
    }));
  });
  afterAll(async () => {
    await handle?.close();
    await dropDatabase(url);
  });

  /** The plan of the statement that chooses the page, as findEvents sends it. */
  async function planOf(query: EventQuery): Promise<PlanNode> {
    statements.length = 0;
    await repos.scoring.findEvents(query);
    const [statement] = statements.filter((s) => s.text.includes('"anomaly_events"'));
    if (!statement) throw new Error('findEvents sent no statement');
    const client = await handle.pool.connect();
    try {
      // Deterministic: only an index can avoid reading the whole table, and the
      // old NULLS FIRST order then still shows its Sort above the index.
      await client.query('set enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `explain (format json) ${statement.text}`,
        statement.values,
      );
      return (rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan;
    } finally {
      await client.query('reset enable_seqscan');
      client.release();
    }
  }

  const cases: { name: string; query: EventQuery; index: string }[] = [
    { name: 'newest first', query: { limit: 50 }, index: 'anomaly_events_start_idx' },
    { name: 'highest score first', query: { limit: 50, order: 'score' }, index: 'anomaly_events_score_idx' },
    {
      name: 'newest first, next page',
      query: { limit: 50, after: { key: Date.UTC(2026, 9, 5), id: 1000 } },
      index: 'anomaly_events_start_idx',
    },
    {
      name: 'highest score first, next page',
      query: { limit: 50, order: 'score', after: { key: 0.8, id: 1000 } },
      index: 'anomaly_events_score_idx',
    },
    {
      name: "one camera's newest first",
      query: { limit: 50, camera: 'cam-2' },
      index: 'anomaly_events_camera_start_idx',
    },
    {
      name: "one camera's highest score first",
      query: { limit: 50, camera: 'cam-2', order: 'score' },
      index: 'anomaly_events_score_idx',
    },
    {
      name: 'unreviewed, newest first',
      query: { limit: 50, verdict: 'unreviewed' },
      index: 'anomaly_events_start_idx',
    },
    {
      name: 'unreviewed, highest score first, next page',
      query: { limit: 50, order: 'score', verdict: 'unreviewed', after: { key: 0.8, id: 1000 } },
      index: 'anomaly_events_score_idx',
    },
  ];

  it.each(cases)('$name: reads $index in order, with no sort of the events table', async ({ query, index }) => {
    const nodes = nodesOf(await planOf(query));
    const scans = nodes.filter((n) => n['Relation Name'] === 'anomaly_events');
    expect(scans.map((n) => [n['Node Type'], n['Index Name']])).toEqual([['Index Scan', index]]);
    // The page's LIMIT takes the index's first rows: no sort below it (the join's
    // result, `limit` rows, may be sorted again above it).
    const limits = nodes.filter((n) => n['Node Type'] === 'Limit');
    expect(limits).toHaveLength(1);
    expect(nodesOf(limits[0] as PlanNode).map((n) => n['Node Type'])).not.toContainEqual(expect.stringMatching(/Sort/));
  });

  it('highest score first in a time range: reads the range by start time and sorts it, never the whole score index', async () => {
    // A daytime range between the nights' recordings: no events, though the planner's
    // estimate (spread evenly between histogram bounds) expects some.
    const daytime = { since: new Date(Date.UTC(2026, 9, 4, 8)), until: new Date(Date.UTC(2026, 9, 4, 20)) };
    const queries: EventQuery[] = [
      { limit: 50, order: 'score', ...daytime },
      { limit: 50, order: 'score', camera: 'cam-2', ...daytime },
      { limit: 50, order: 'score', since: daytime.since },
    ];
    for (const query of queries) {
      const scans = nodesOf(await planOf(query)).filter((n) => n['Relation Name'] === 'anomaly_events');
      expect(scans.map((n) => n['Index Name'] ?? n['Node Type'])).not.toContain('anomaly_events_score_idx');
    }
    expect(await repos.scoring.findEvents({ limit: 50, order: 'score', ...daytime })).toEqual([]);
  });

  const orders: {
    name: string;
    order: 'time' | 'score';
    camera?: string;
    since?: Date;
    until?: Date;
    limit: number;
  }[] = [
    { name: 'newest first', order: 'time', limit: 7 },
    { name: 'highest score first', order: 'score', limit: 7 },
    { name: "one camera's newest first", order: 'time', camera: 'cam-3', limit: 4 },
    { name: "one camera's highest score first", order: 'score', camera: 'cam-3', limit: 4 },
    {
      name: 'highest score first in a time range (the range sorted)',
      order: 'score',
      since: new Date(Date.UTC(2026, 9, 3)),
      until: new Date(Date.UTC(2026, 9, 7)),
      limit: 6,
    },
  ];

  it.each(orders)(
    '$name: keyset pages neither skip nor repeat across NULL start times and tied keys',
    async ({ order, camera, since, until, limit }) => {
      const inRange = (e: (typeof all)[number]) =>
        (!since || (e.startAt !== null && e.startAt >= since.getTime())) &&
        (!until || (e.startAt !== null && e.startAt < until.getTime()));
      const expected = all
        .filter(
          (e) =>
            e.current && (!camera || e.camera === camera) && (order === 'score' || e.startAt !== null) && inRange(e),
        )
        .sort((a, b) =>
          order === 'time'
            ? (b.startAt ?? 0) - (a.startAt ?? 0) || b.id - a.id
            : b.peakScore - a.peakScore || b.id - a.id,
        )
        .map((e) => e.id);
      // The fixture exercises what it claims: events without a start time, ties across page boundaries.
      const current = all.filter((e) => e.current && (!camera || e.camera === camera) && inRange(e));
      expect(current.length).toBeGreaterThan(10 * limit);
      expect(current.some((e) => e.startAt === null)).toBe(!since && !until);
      expect(new Set(current.map((e) => (order === 'time' ? e.startAt : e.peakScore))).size).toBeLessThan(
        current.length / 2,
      );

      const seen: number[] = [];
      let after: EventQuery['after'];
      for (;;) {
        const page = await repos.scoring.findEvents({ camera, order, since, until, limit, after });
        seen.push(...page.map((r) => r.id));
        const last = page.at(-1);
        if (page.length < limit || !last) break;
        after = keysetOf(last, order);
      }
      expect(seen).toEqual(expected);
    },
  );
  const verdicts: { name: string; order: 'time' | 'score'; verdict: 'true' | 'false' | 'unreviewed'; limit: number }[] =
    [
      { name: 'true alarms, newest first', order: 'time', verdict: 'true', limit: 7 },
      { name: 'false alarms, highest score first', order: 'score', verdict: 'false', limit: 7 },
      { name: 'unreviewed, newest first', order: 'time', verdict: 'unreviewed', limit: 40 },
      { name: 'unreviewed, highest score first', order: 'score', verdict: 'unreviewed', limit: 40 },
    ];

  it.each(verdicts)(
    'verdict filter, $name: keyset pages hold exactly the matching current events, each with its review',
    async ({ order, verdict, limit }) => {
      const matches = (e: (typeof all)[number]) =>
        verdict === 'unreviewed' ? e.verdict === null : e.verdict === verdict;
      const expected = all
        .filter((e) => e.current && (order === 'score' || e.startAt !== null) && matches(e))
        .sort((a, b) =>
          order === 'time'
            ? (b.startAt ?? 0) - (a.startAt ?? 0) || b.id - a.id
            : b.peakScore - a.peakScore || b.id - a.id,
        )
        .map((e) => e.id);
      // Reviews of earlier runs' events are there too, and must not let those events in.
      expect(all.some((e) => !e.current && matches(e))).toBe(true);
      expect(expected.length).toBeGreaterThan(5 * limit);

      const seen: number[] = [];
      let after: EventQuery['after'];
      for (;;) {
        const page = await repos.scoring.findEvents({ order, verdict, limit, after });
        for (const row of page) {
          if (verdict === 'unreviewed') expect(row.review).toBeNull();
          else expect(row.review).toEqual({ verdict, note: null, reviewedBy: 'tester', reviewedAt: expect.any(Date) });
        }
        seen.push(...page.map((r) => r.id));
        const last = page.at(-1);
        if (page.length < limit || !last) break;
        after = keysetOf(last, order);
      }
      expect(seen).toEqual(expected);
    },
  );

  it('shows the review of each event of an unfiltered page, and of one event', async () => {
    const page = await repos.scoring.findEvents({ limit: 200 });
    const byId = new Map(all.map((e) => [e.id, e.verdict]));
    expect(page.map((r) => r.review?.verdict ?? null)).toEqual(page.map((r) => byId.get(r.id)));
    expect(page.some((r) => r.review) && page.some((r) => !r.review)).toBe(true);
    const reviewed = page.find((r) => r.review);
    expect(reviewed && (await repos.scoring.getEvent(reviewed.id))?.review).toEqual(reviewed?.review);
  });
});
