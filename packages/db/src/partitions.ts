import { type SQL, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { videos } from './schema.js';

/**
 * frame_embeddings and clip_scores are range-partitioned by `recorded_day`,
 * one partition per UTC day of recording (`frame_embeddings_d20261130`), so
 * that the daily retention run drops the days whose videos have all expired
 * instead of deleting their rows. A partition is created on demand before a
 * write by the SQL function vad_ensure_day_partition (migration 0009):
 * race-safe across processes (an advisory lock; the later callers find the
 * partition there), and it ATTACHes the new table, which locks the parent in
 * SHARE UPDATE EXCLUSIVE mode only, so reads and writes of other days go on.
 * There is no DEFAULT partition: a write to a day without its partition fails
 * (23514), and the writers here create it and try once more, which also
 * covers a partition that retention dropped after this process saw it.
 * Reads of a video's or a run's rows name its day as well (day-hints.ts), so
 * that PostgreSQL plans and locks that partition, not all of them.
 */
export const PARTITIONED_TABLES = ['frame_embeddings', 'clip_scores'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** A video's partition day, as SQL over `videos`: the UTC day of coalesce(recorded_at, created_at), as text (`2026-11-30`). */
export const videoDay: SQL<string> = sql<string>`((coalesce(${videos.recordedAt}, ${videos.createdAt}) at time zone 'UTC')::date)::text`;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(day: string): Date {
  const d = DAY.exec(day);
  const at = d ? new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))) : undefined;
  if (!at || dayOf(at) !== day) throw new Error(`not a day (YYYY-MM-DD): ${day}`);
  return at;
}

/** The day `at` falls on (UTC): `2026-11-30`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The day after `day`. */
export function nextDay(day: string): string {
  return dayOf(new Date(parseDay(day).getTime() + 86_400_000));
}

/** The partition of `table` that holds `day`: `frame_embeddings_d20261130`. */
export function partitionName(table: PartitionedTable, day: string): string {
  parseDay(day);
  return `${table}_d${day.replaceAll('-', '')}`;
}

/** Partitions this process has seen exist, per database handle (tests open many databases in one process). */
const known = new WeakMap<Database, Set<string>>();

function knownOf(db: Database): Set<string> {
  let set = known.get(db);
  if (!set) {
    set = new Set();
    known.set(db, set);
  }
  return set;
}

/** The SQLSTATE of a driver error, also when drizzle wraps it (`cause`). */
export function pgErrorCode(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return pgErrorCode(error.cause, depth + 1);
}

function messageChain(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 5) return '';
  return `${error.message}\n${messageChain(error.cause, depth + 1)}`;
}

/** A write that found no partition for its day (check_violation "no partition of relation … found for row"). */
export function isMissingPartition(error: unknown): boolean {
  return pgErrorCode(error) === '23514' && /no partition of relation/.test(messageChain(error));
}

/**
 * Makes sure `table` has a partition for each of `days`. Each day is asked of
 * PostgreSQL once per process (then cached); call it outside any
 * transaction, as its locks last until commit.
 */
export async function ensureDayPartitions(
  db: Database,
  table: PartitionedTable,
  days: Iterable<string>,
): Promise<void> {
  const seen = knownOf(db);
  for (const day of new Set(days)) {
    const name = partitionName(table, day);
    if (seen.has(name)) continue;
    try {
      await db.execute(sql`select vad_ensure_day_partition(${table}::regclass, ${day}::date)`);
    } catch (error) {
      // Created at the same moment by something that did not take the function's
      // advisory lock (duplicate_table, or unique_violation in the catalog): it is there.
      const code = pgErrorCode(error);
      if (code !== '42P07' && code !== '23505') throw error;
    }
    seen.add(name);
  }
}

/** Forgets that a partition exists (it was dropped), so that the next write creates it again. */
export function forgetDayPartition(db: Database, table: PartitionedTable, day: string): void {
  knownOf(db).delete(partitionName(table, day));
}

/**
 * Runs `write` once the partitions of `days` exist; when a partition
 * disappeared in between (retention dropped it in another process), creates
 * it again and runs `write` once more. `write` must be all-or-nothing (one
 * statement or one transaction).
 */
export async function writeToDays<T>(
  db: Database,
  table: PartitionedTable,
  days: readonly string[],
  write: () => Promise<T>,
): Promise<T> {
  await ensureDayPartitions(db, table, days);
  try {
    return await write();
  } catch (error) {
    if (!isMissingPartition(error)) throw error;
    for (const day of days) forgetDayPartition(db, table, day);
    await ensureDayPartitions(db, table, days);
    return write();
  }
}

export interface DayPartition {
  table: PartitionedTable;
  /** The partition's table name, e.g. frame_embeddings_d20261130. */
  name: string;
  /** Its day, e.g. 2026-11-30. */
  day: string;
}

/** The day partitions of `table`, oldest first (read from their bounds). */
export async function listDayPartitions(db: Database, table: PartitionedTable): Promise<DayPartition[]> {
  const result = await db.execute<{ name: string; bound: string }>(sql`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${table}::regclass`);
  const partitions: DayPartition[] = [];
  for (const { name, bound } of result.rows) {
    const m = /FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)/.exec(bound);
    // Only single days, as vad_ensure_day_partition makes them.
    if (m?.[1] && m[2] === nextDay(m[1])) partitions.push({ table, name, day: m[1] });
  }
  return partitions.sort((a, b) => a.day.localeCompare(b.day));
}
