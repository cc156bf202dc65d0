import { eq, inArray } from 'drizzle-orm';
import type { Database } from './client.js';
import { videoDay } from './partitions.js';
import { scoringRuns, videos } from './schema.js';

/**
 * Day hints: the day partition a video's frame embeddings, or a scoring
 * run's clip scores, are expected in, so that the queries that read them by
 * video or by run can name the day (`recorded_day = $day`, known before
 * planning). A query by video_id or scoring_run_id alone makes PostgreSQL
 * plan, probe and lock every partition (with a year of days: ~13 ms of
 * planning and ~730 locks a query, enough for a few such queries at once to
 * run out of shared lock memory); naming the day, it plans and locks one.
 *
 * A hint is only ever a hint: the readers check what they find under it and
 * look on every day (the unpruned query) when the rows turn out not to be
 * there, so a wrong hint costs time, never rows. What makes a hit complete:
 * - a video's frame embeddings are all on one day (upsertMany writes a
 *   video's rows to the day of its earlier rows; its first rows to the day
 *   chosen under a per-video lock), so finding any row of the video on a day
 *   means all of them are there;
 * - a run's clip scores are written in one transaction with the run, all on
 *   one day, and never added to later, so finding any clip of a run on a day
 *   means all of them are there.
 *
 * Where a hint comes from: the day this process last found or wrote the rows
 * on, else the one the write path chooses, the UTC day of the video's
 * coalesce(recorded_at, created_at) read from its `videos` row (one primary
 * key lookup). That is right unless the video's recording time changed after
 * its rows were written.
 */

/** What the lookups need: the database, or a transaction on it. */
export type Reader = Pick<Database, 'select'>;

/** Hints kept per database handle, at most this many of each kind (the oldest forgotten first). */
const MAX_HINTS = 50_000;

export interface DayHints {
  /** Video id → the day of its frame embeddings (last found or written, or computed from its row). */
  readonly videos: Map<string, string>;
  /** Scoring run id → the day of its clip scores (last found or written, or computed from its video's row). */
  readonly runs: Map<string, string>;
}

/** Per database handle (tests open many databases in one process), like the partitions seen. */
const hintsByHandle = new WeakMap<object, DayHints>();

/** The hints kept for a database handle (`key`: the Database the repositories were made with). */
export function dayHintsOf(key: object): DayHints {
  let hints = hintsByHandle.get(key);
  if (!hints) {
    hints = { videos: new Map(), runs: new Map() };
    hintsByHandle.set(key, hints);
  }
  return hints;
}

/** Notes `day` as the hint for `id` (most recently used last; the oldest go past MAX_HINTS). */
export function rememberDay(map: Map<string, string>, id: string, day: string): void {
  map.delete(id);
  map.set(id, day);
  if (map.size > MAX_HINTS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/** Only adds a hint where there is none (a computed day never replaces a day rows were found on). */
function suggestDay(map: Map<string, string>, id: string, day: string): void {
  if (!map.has(id)) rememberDay(map, id, day);
}

/** Ids per lookup statement. */
const BATCH = 1000;

/**
 * The hinted day of each video (of those that exist): kept, or computed from
 * its `videos` row as the write path chooses a first day (and then kept).
 */
export async function videoDayHints(db: Reader, hints: DayHints, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unknown: string[] = [];
  for (const id of new Set(ids)) {
    const day = hints.videos.get(id);
    if (day === undefined) unknown.push(id);
    else out.set(id, day);
  }
  for (let i = 0; i < unknown.length; i += BATCH) {
    const batch = unknown.slice(i, i + BATCH);
    const rows = await db
      .select({ id: videos.id, day: videoDay })
      .from(videos)
      .where(batch.length === 1 ? eq(videos.id, batch[0] as string) : inArray(videos.id, batch));
    for (const row of rows) {
      suggestDay(hints.videos, row.id, row.day);
      out.set(row.id, row.day);
    }
  }
  return out;
}

/**
 * The hinted day of each scoring run's clip scores (of the runs that exist):
 * kept, or its video's day as saveRun chooses it (and then kept).
 */
export async function runDayHints(db: Reader, hints: DayHints, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unknown: string[] = [];
  for (const id of new Set(ids)) {
    const day = hints.runs.get(id);
    if (day === undefined) unknown.push(id);
    else out.set(id, day);
  }
  for (let i = 0; i < unknown.length; i += BATCH) {
    const batch = unknown.slice(i, i + BATCH);
    const rows = await db
      .select({ id: scoringRuns.id, day: videoDay })
      .from(scoringRuns)
      .innerJoin(videos, eq(videos.id, scoringRuns.videoId))
      .where(batch.length === 1 ? eq(scoringRuns.id, batch[0] as string) : inArray(scoringRuns.id, batch));
    for (const row of rows) {
      suggestDay(hints.runs, row.id, row.day);
      out.set(row.id, row.day);
    }
  }
  return out;
}

/** Adds computed days for runs without a hint (a caller that read them with the runs). */
export function suggestRunDays(hints: DayHints, days: Iterable<readonly [string, string]>): void {
  for (const [id, day] of days) suggestDay(hints.runs, id, day);
}

/**
 * Reads the clip scores of `runIds` on their hinted days (`read(ids, days)`:
 * those runs, on those days only), then, for the runs nothing was found of
 * there (a run without clips, or whose clips are on another day), on every
 * day (`read(ids, undefined)`: unpruned). Returns the rows of both, each
 * run's from one of the two reads; notes the day each run was found on.
 */
export async function readOnRunDays<R>(
  db: Reader,
  hints: DayHints,
  runIds: readonly string[],
  read: (ids: string[], days: string[] | undefined) => Promise<R[]>,
  row: (r: R) => { runId: string; day: string },
): Promise<R[]> {
  const ids = [...new Set(runIds)];
  if (!ids.length) return [];
  const hinted = await runDayHints(db, hints, ids);
  const out: R[] = [];
  const found = new Set<string>();
  const keep = (rows: R[]) => {
    for (const r of rows) {
      const { runId, day } = row(r);
      if (!found.has(runId)) rememberDay(hints.runs, runId, day);
      found.add(runId);
      out.push(r);
    }
  };
  const withHint = ids.filter((id) => hinted.has(id));
  if (withHint.length) keep(await read(withHint, [...new Set(withHint.map((id) => hinted.get(id) as string))]));
  const rest = ids.filter((id) => !found.has(id));
  if (rest.length) keep(await read(rest, undefined));
  return out;
}
