import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, type Name, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import {
  type DayPartition,
  dayOf,
  forgetDayPartition,
  listDayPartitions,
  nextDay,
  type PartitionedTable,
  pgErrorCode,
  videoDay,
} from '../partitions.js';
import { anomalyEvents, frameEmbeddings, videos } from '../schema.js';

/** When a video stopped changing: finished, or failed (last update). */
const endedAt = sql`coalesce(${videos.finishedAt}, ${videos.updatedAt})`;
const ended = inArray(videos.status, ['done', 'failed']);
/** Ended before `cutoff`: what retention may remove. */
const pastRetention = (cutoff: Date) => sql<boolean>`(${ended} and ${endedAt} < ${cutoff})`;

/** A day partition retention dropped whole, instead of deleting its rows. */
export interface DroppedPartition {
  table: PartitionedTable;
  /** Its table name, e.g. frame_embeddings_d20260930. */
  partition: string;
  /** Its day (UTC day of recording), e.g. 2026-09-30. */
  day: string;
  /** Videos that had rows in it. */
  videos: number;
  /**
   * Rows it held, as PostgreSQL last counted them (pg_class.reltuples, from
   * the last VACUUM or ANALYZE; n_live_tup if it never had one): close, not
   * exact, as counting would read the whole partition.
   */
  approxRows: number;
  /** Its size on disk (heap, TOAST, index) before the drop. */
  bytes: number;
  /**
   * The transaction that dropped it (with the other days of its batch): how
   * long it held the parent table ACCESS EXCLUSIVE, from the lock to the
   * commit (the file system freeing the files included), during which
   * queries of the table wait; and how many partitions it dropped.
   */
  lock: { ms: number; partitions: number };
}

/** What a pass over the day partitions did: those dropped, and those that could not be locked in time. */
export interface PartitionDrops {
  dropped: DroppedPartition[];
  skipped: { partition: string; reason: string }[];
}

/** How long a partition drop waits for the table lock before leaving its days to row deletes. */
const DROP_LOCK_TIMEOUT = '5s';

/**
 * Days dropped together in one transaction, up to this size: the parent
 * table stays locked while the file system frees their files (about 0.5 ms
 * per MiB on a disk mounted with `discard`), and each transaction costs a few
 * round trips and a commit. A daily run drops the day just expired, alone; a
 * backlog goes in batches of this size.
 */
const DROP_BATCH_BYTES = 512 * 2 ** 20;

/** Partitions looked at per statement by the droppability query (a UNION ALL of one branch each). */
const CHECK_CHUNK = 100;

/** A partition the droppability query found holding no video still inside retention. */
interface Candidate extends DayPartition {
  /** The videos with rows in it. */
  ids: string[];
  approxRows: number;
  bytes: number;
}

const VIDEO_ID = sql.identifier('video_id');

/** The distinct video_ids of a partition: a loose index scan (the next video_id after the last, until none is left). */
const videosInPartition = (part: Name): SQL =>
  sql`with recursive ids(id) as (
      (select ${VIDEO_ID} from ${part} order by ${VIDEO_ID} limit 1)
      union all
      select (select p.${VIDEO_ID} from ${part} p where p.${VIDEO_ID} > ids.id order by p.${VIDEO_ID} limit 1)
      from ids where ids.id is not null
    )
    select id from ids where id is not null`;

/** `partitions` in batches of up to DROP_BATCH_BYTES, in order (a partition bigger than that alone). */
function batches(partitions: Candidate[]): Candidate[][] {
  const out: Candidate[][] = [];
  let batch: Candidate[] = [];
  let bytes = 0;
  for (const partition of partitions) {
    if (batch.length && bytes + partition.bytes > DROP_BATCH_BYTES) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(partition);
    bytes += partition.bytes;
  }
  if (batch.length) out.push(batch);
  return out;
}

/**
 * The deletions retention makes, in batches so that a year of backlog never
 * becomes one huge transaction. Each returns what it did, for the job's
 * result and logs.
 */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** Removes the frame embeddings of up to `limit` videos that ended before `cutoff`; returns the rows removed. */
  async removeEmbeddings(cutoff: Date, limit: number): Promise<{ videos: number; rows: number }> {
    return this.db.transaction(async (tx) => {
      const chosen = await tx
        .select({ id: videos.id })
        .from(videos)
        .where(and(ended, lt(endedAt, cutoff), isNull(videos.embeddingsRemovedAt)))
        .limit(limit);
      if (!chosen.length) return { videos: 0, rows: 0 };
      const ids = chosen.map((v) => v.id);
      const removed = await tx.delete(frameEmbeddings).where(inArray(frameEmbeddings.videoId, ids));
      await tx.update(videos).set({ embeddingsRemovedAt: sql`now()` }).where(inArray(videos.id, ids));
      return { videos: ids.length, rows: removed.rowCount ?? 0 };
    });
  }

  /**
   * Embeddings retention by day: drops each frame_embeddings partition
   * whose every video ended before `cutoff` (or that holds no rows and whose
   * day ended before it), and marks those videos `embeddings_removed_at`,
   * in the same transaction (one per batch of days, see DROP_BATCH_BYTES).
   * Days that cannot be dropped whole are left to removeEmbeddings, row by
   * row.
   */
  async dropEmbeddingPartitions(cutoff: Date): Promise<PartitionDrops> {
    return this.dropPartitions(['frame_embeddings'], cutoff);
  }

  /**
   * Results retention by day: drops each clip_scores and frame_embeddings
   * partition whose every video ended before `cutoff`, i.e. whose videos
   * removeVideos deletes next (frame embeddings' videos are marked
   * `embeddings_removed_at` meanwhile). Their deletes then find nothing to
   * cascade to on those days.
   */
  async dropResultPartitions(cutoff: Date): Promise<PartitionDrops> {
    return this.dropPartitions(['clip_scores', 'frame_embeddings'], cutoff);
  }

  /**
   * Which days can go is decided for all of a table's partitions at once,
   * before any lock: (1) the videos still inside retention (or unfinished)
   * are read once, with their recording day; a day that one of them was
   * recorded on is kept without looking at its rows (the common case: the
   * days inside retention). (2) One query looks into every other partition:
   * for a video still inside retention, by its key (a probe each; this also
   * finds a video whose rows stayed on an earlier day when its recording time
   * changed), and where none is found, lists the videos with rows there (a
   * loose index scan) and reads the partition's size from the catalog. The
   * days found droppable are then dropped, oldest first, in transactions of
   * up to DROP_BATCH_BYTES each, which check them again under locks (see
   * dropBatch).
   */
  private async dropPartitions(tables: PartitionedTable[], cutoff: Date): Promise<PartitionDrops> {
    const out: PartitionDrops = { dropped: [], skipped: [] };
    const keep = await this.db
      .select({ id: videos.id, day: videoDay })
      .from(videos)
      .where(sql`not ${pastRetention(cutoff)}`);
    const keptDays = new Set(keep.map((v) => v.day));
    const keepArray = `{${keep.map((v) => v.id).join(',')}}`;
    for (const table of tables) {
      const others = (await listDayPartitions(this.db, table)).filter((p) => !keptDays.has(p.day));
      for (const batch of batches(await this.droppable(others, keepArray, dayOf(cutoff)))) {
        try {
          out.dropped.push(...(await this.dropBatch(table, batch, cutoff)));
        } catch (error) {
          // lock_not_available (another session held the table longer than the timeout) or
          // deadlock_detected: these days are left to row deletes, and tried again next run.
          const code = pgErrorCode(error);
          if (code !== '55P03' && code !== '40P01') throw error;
          const reason = code === '55P03' ? `table lock not granted within ${DROP_LOCK_TIMEOUT}` : 'deadlock';
          out.skipped.push(...batch.map((p) => ({ partition: p.name, reason })));
        }
      }
    }
    return out;
  }

  /**
   * Of `partitions`, those holding no video of `keepArray` (a uuid[] literal:
   * the videos still inside retention), with the videos that have rows in
   * each; an empty one only once its day ended before the cutoff's. One
   * statement per CHECK_CHUNK partitions, no locks beyond reading.
   */
  private async droppable(partitions: DayPartition[], keepArray: string, cutoffDay: string): Promise<Candidate[]> {
    const out: Candidate[] = [];
    for (let i = 0; i < partitions.length; i += CHECK_CHUNK) {
      const chunk = partitions.slice(i, i + CHECK_CHUNK);
      const branches = chunk.map((p, k) => {
        const part = sql.identifier(p.name);
        // A probe per video still inside retention first: listing every video of a day would
        // also walk the index entries of rows deleted since the last vacuum. Each probe reads the
        // first key from the video's on (ORDER BY … LIMIT 1: always the index). `video_id = any(…)`
        // would leave the plan to the statistics, and a day of one camera (one video_id) makes
        // the planner expect every row to match and scan the whole partition instead.
        return sql`select ${k}::int as k,
            case when exists (
                   select 1 from unnest((select ids from keep)) as kv(id)
                   where (select p.${VIDEO_ID} from ${part} p where p.${VIDEO_ID} >= kv.id order by p.${VIDEO_ID} limit 1) = kv.id)
                 then null else array(${videosInPartition(part)})::text[] end as ids,
            (select (case when reltuples >= 0 then reltuples else pg_stat_get_live_tuples(oid) end)::bigint::text
             from pg_class where oid = ${p.name}::regclass) as rows,
            pg_total_relation_size(${p.name}::regclass)::text as bytes`;
      });
      let result: { rows: { k: number; ids: string[] | null; rows: string | null; bytes: string | null }[] };
      try {
        result = await this.db.execute<{ k: number; ids: string[] | null; rows: string | null; bytes: string | null }>(
          sql`with keep as (select ${keepArray}::uuid[] as ids) ${sql.join(branches, sql` union all `)}`,
        );
      } catch (error) {
        // A partition dropped meanwhile (another run): look again next time.
        if (pgErrorCode(error) === '42P01') continue;
        throw error;
      }
      for (const row of result.rows) {
        const partition = chunk[row.k];
        if (!partition || row.ids === null) continue;
        // An empty partition goes once its whole day is before the cutoff.
        if (row.ids.length === 0 && nextDay(partition.day) > cutoffDay) continue;
        out.push({ ...partition, ids: row.ids, approxRows: Number(row.rows ?? 0), bytes: Number(row.bytes ?? 0) });
      }
    }
    return out.sort((a, b) => a.day.localeCompare(b.day));
  }

  /**
   * Drops, in one transaction, the partitions of `batch` whose every video
   * with rows there (`ids`, read from the partition itself, not from their
   * recording time, so the decision holds whatever day a video's rows went
   * to) ended before `cutoff`. Lock order: the videos' rows first (as saveRun
   * takes them), then the parent table, whose ACCESS EXCLUSIVE lock a DROP of
   * a partition needs. Under those locks each day is checked again: a day
   * whose video is back inside retention, was deleted meanwhile, or that a new
   * video wrote its first rows to stays, for the next run.
   */
  private async dropBatch(table: PartitionedTable, batch: Candidate[], cutoff: Date): Promise<DroppedPartition[]> {
    const ids = [...new Set(batch.flatMap((p) => p.ids))];
    const done = await this.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local lock_timeout = '${DROP_LOCK_TIMEOUT}'`));
      const past = new Set(
        (ids.length
          ? await tx
              .select({ id: videos.id, past: pastRetention(cutoff) })
              .from(videos)
              .where(inArray(videos.id, ids))
              .for('no key update')
          : []
        )
          .filter((v) => v.past)
          .map((v) => v.id),
      );
      let days = batch.filter((p) => p.ids.every((id) => past.has(id)));
      if (!days.length) return undefined;
      // The parent alone (ONLY): every query of the table locks it first, and the DROP locks its partitions.
      await tx.execute(sql`lock table only ${sql.identifier(table)} in access exclusive mode`);
      const lockedAt = performance.now();
      // Dropped meanwhile by another run (before this one got the lock): nothing left to do there.
      const attached = await tx.execute<{ name: string }>(
        sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = ${table}::regclass and c.relname = any(${`{${days.map((p) => p.name).join(',')}}`}::text[])`,
      );
      const still = new Set(attached.rows.map((r) => r.name));
      days = days.filter((p) => still.has(p.name));
      if (!days.length) return undefined;
      const now = await tx.execute<{ k: number; ids: string[] }>(
        sql.join(
          days.map(
            (p, k) => sql`select ${k}::int as k, array(${videosInPartition(sql.identifier(p.name))})::text[] as ids`,
          ),
          sql` union all `,
        ),
      );
      const newcomers = new Set(
        now.rows.filter((r) => r.ids.some((id) => !days[r.k]?.ids.includes(id))).map((r) => r.k),
      );
      days = days.filter((_, k) => !newcomers.has(k));
      if (!days.length) return undefined;
      await tx.execute(
        sql`drop table ${sql.join(
          days.map((p) => sql.identifier(p.name)),
          sql`, `,
        )}`,
      );
      const gone = [...new Set(days.flatMap((p) => p.ids))];
      if (table === 'frame_embeddings' && gone.length) {
        await tx
          .update(videos)
          .set({ embeddingsRemovedAt: sql`now()` })
          .where(and(inArray(videos.id, gone), isNull(videos.embeddingsRemovedAt)));
      }
      return { days, lockedAt };
    });
    if (!done) return [];
    const lock = { ms: Math.round((performance.now() - done.lockedAt) * 10) / 10, partitions: done.days.length };
    return done.days.map((p) => {
      forgetDayPartition(this.db, table, p.day);
      return {
        table,
        partition: p.name,
        day: p.day,
        videos: p.ids.length,
        approxRows: p.approxRows,
        bytes: p.bytes,
        lock,
      };
    });
  }

  /**
   * Up to `limit` events created before `cutoff` that still have a thumbnail,
   * in id order after `afterId`: each batch continues along the primary key
   * where the last one stopped instead of rescanning from the start.
   */
  async thumbnailsBefore(
    cutoff: Date,
    afterId: number,
    limit: number,
  ): Promise<{ id: number; thumbnailPath: string }[]> {
    const rows = await this.db
      .select({ id: anomalyEvents.id, thumbnailPath: anomalyEvents.thumbnailPath })
      .from(anomalyEvents)
      .where(
        and(gt(anomalyEvents.id, afterId), isNotNull(anomalyEvents.thumbnailPath), lt(anomalyEvents.createdAt, cutoff)),
      )
      .orderBy(asc(anomalyEvents.id))
      .limit(limit);
    return rows.map((r) => ({ id: r.id, thumbnailPath: r.thumbnailPath ?? '' }));
  }

  async clearThumbnails(eventIds: number[]): Promise<void> {
    if (eventIds.length) {
      await this.db.update(anomalyEvents).set({ thumbnailPath: null }).where(inArray(anomalyEvents.id, eventIds));
    }
  }

  /** Up to `limit` videos that ended (done or failed) before `cutoff`, whose source file has not been removed. */
  async sourcesBefore(cutoff: Date, limit: number): Promise<{ id: string; sourceUri: string }[]> {
    return this.db
      .select({ id: videos.id, sourceUri: videos.sourceUri })
      .from(videos)
      .where(and(ended, lt(endedAt, cutoff), isNull(videos.sourceRemovedAt)))
      .limit(limit);
  }

  async markSourceRemoved(videoId: string): Promise<void> {
    await this.db.update(videos).set({ sourceRemovedAt: sql`now()` }).where(eq(videos.id, videoId));
  }

  /** Deletes up to `limit` videos that ended before `cutoff`, with their scores and events (cascade). */
  async removeVideos(cutoff: Date, limit: number): Promise<string[]> {
    const chosen = await this.db
      .select({ id: videos.id })
      .from(videos)
      .where(and(ended, lt(endedAt, cutoff)))
      .limit(limit);
    if (!chosen.length) return [];
    const ids = chosen.map((v) => v.id);
    await this.db.delete(videos).where(inArray(videos.id, ids));
    return ids;
  }
}
