import { and, between, count, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { dayHintsOf, rememberDay, videoDayHints } from '../day-hints.js';
import { videoDay, writeToDays } from '../partitions.js';
import { frameEmbeddings, type NewFrameEmbedding, videos } from '../schema.js';
import { decodeEmbedding } from './embedding-bytes.js';

/** A frame's vector as loadVectors returns it. */
export interface FrameVector {
  frameIndex: number;
  ptsMs: number;
  vector: Float32Array;
  /**
   * The frame whose stored vector this is: frameIndex itself for an encoded
   * frame, the earlier frame it reuses for one motion sampling skipped (the
   * same Float32Array instance as that frame's). Distinct values = frames encoded.
   */
  sourceFrame: number;
}

/** What a video's frame embeddings take in the database. */
export interface FrameEmbeddingStorage {
  /** Rows holding a vector of their own. */
  encodedRows: number;
  /** Rows reusing an earlier frame's vector (embedding null). */
  reusedRows: number;
  /** Bytes of the stored vectors, sum(octet_length(embedding)): the payload, before row headers, TOAST and indexes. */
  embeddingBytes: number;
}

/**
 * A video's rows (of one model, when given) on `day`: the partition key named
 * before planning, so that PostgreSQL plans, probes and locks that day's
 * partition alone; on every day when `day` is undefined.
 */
const ofVideo = (videoId: string, model: string | undefined, day: string | undefined) =>
  and(
    eq(frameEmbeddings.videoId, videoId),
    model === undefined ? undefined : eq(frameEmbeddings.model, model),
    day === undefined ? undefined : eq(frameEmbeddings.recordedDay, day),
  );

/** Advisory-lock namespace of a video's first embedding write (its partition day is chosen then). */
const FIRST_WRITE_LOCK = 7461829;

export class FrameEmbeddingRepository {
  constructor(private readonly db: Database) {}

  /**
   * Writes a segment's embeddings in one statement (a video's first rows: one
   * transaction). Idempotent: a retried job overwrites its rows instead of
   * duplicating them (primary key video, model, frame, day). A row either holds its vector (`embedding`) or reuses an
   * earlier frame's (`embedding: null, sameAsFrame`).
   *
   * The rows go to the partition of the video's day: the day its earlier
   * rows are in, so a video never spans two partitions even if its recording
   * time changes; for its first rows, the UTC day of coalesce(recorded_at,
   * created_at), chosen under a per-video advisory lock so that concurrent
   * first writes agree. The earlier rows are looked for on the days named
   * (see day-hints.ts): the day this process last wrote or found them on,
   * then the computed day; on every day only for a video with no rows on
   * either (its first rows, under the lock), so a write plans and locks the
   * partitions of its days alone.
   */
  async upsertMany(rows: NewFrameEmbedding[]): Promise<void> {
    if (rows.length === 0) return;
    const videoIds = [...new Set(rows.map((r) => r.videoId))];
    const hints = dayHintsOf(this.db);
    const hinted = [...new Set(videoIds.flatMap((id) => hints.videos.get(id) ?? []))];
    const found = await this.db
      .select({
        id: videos.id,
        computed: videoDay,
        // The day of the video's rows, looked for on the hinted days only (named before planning:
        // PostgreSQL plans and locks those partitions alone). A video's rows are all on one day.
        existing: hinted.length
          ? sql<string | null>`(select ${frameEmbeddings.recordedDay}::text from ${frameEmbeddings}
              where ${frameEmbeddings.videoId} = ${videos.id} and ${inArray(frameEmbeddings.recordedDay, hinted)} limit 1)`
          : sql<string | null>`null::text`,
      })
      .from(videos)
      .where(inArray(videos.id, videoIds));
    const missing = videoIds.filter((id) => !found.some((v) => v.id === id));
    if (missing.length) throw new Error(`no video ${missing.join(', ')}: cannot store its frame embeddings`);
    const days = new Map<string, string>();
    const firstWrite: string[] = [];
    for (const video of found) {
      // Not on the hinted days: on the computed one (unless that was among them)?
      const day =
        video.existing ??
        (!hinted.includes(video.computed) && (await this.hasRowsOn(this.db, video.id, video.computed))
          ? video.computed
          : undefined);
      days.set(video.id, day ?? video.computed);
      if (day === undefined) firstWrite.push(video.id);
    }
    const insert = (tx: Pick<Database, 'insert'>, dayOfVideo: Map<string, string>) =>
      tx
        .insert(frameEmbeddings)
        .values(
          rows.map((r) => ({
            ...r,
            sameAsFrame: r.sameAsFrame ?? null,
            recordedDay: dayOfVideo.get(r.videoId) as string,
          })),
        )
        .onConflictDoUpdate({
          target: [
            frameEmbeddings.videoId,
            frameEmbeddings.model,
            frameEmbeddings.frameIndex,
            frameEmbeddings.recordedDay,
          ],
          set: {
            ptsMs: sql`excluded.pts_ms`,
            dtype: sql`excluded.dtype`,
            embedding: sql`excluded.embedding`,
            sameAsFrame: sql`excluded.same_as_frame`,
          },
        });
    const written = (dayOfVideo: Map<string, string>) => {
      for (const [id, day] of dayOfVideo) rememberDay(hints.videos, id, day);
    };
    if (!firstWrite.length) {
      await writeToDays(this.db, 'frame_embeddings', [...new Set(days.values())], () => insert(this.db, days));
      written(days);
      return;
    }
    // A video's first rows (none found on its hinted or computed day): its day is chosen under a
    // lock, and looked up again after it, on every day this time (another writer may have written
    // the video's first rows meanwhile, or its rows may be on a day its recording time no longer gives).
    const chosen = await writeToDays(this.db, 'frame_embeddings', [...new Set(days.values())], () =>
      this.db.transaction(async (tx) => {
        const chosen = new Map(days);
        for (const id of firstWrite.sort()) {
          await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_WRITE_LOCK}, hashtext(${id}))`);
          const day = chosen.get(id) as string;
          if (await this.hasRowsOn(tx, id, day)) continue;
          const elsewhere = await this.dayOfRows(tx, id);
          // Rows written under another day (its recording time changed in between, or before this
          // process saw them): follow them. Their partition exists, since they are in it.
          if (elsewhere !== undefined) chosen.set(id, elsewhere);
        }
        await insert(tx, chosen);
        return chosen;
      }),
    );
    written(chosen);
  }

  /** Whether the video has any frame embedding on `day` (that partition alone is planned and locked). */
  private async hasRowsOn(db: Pick<Database, 'select'>, videoId: string, day: string): Promise<boolean> {
    const rows = await db
      .select({ one: sql<number>`1` })
      .from(frameEmbeddings)
      .where(and(eq(frameEmbeddings.videoId, videoId), eq(frameEmbeddings.recordedDay, day)))
      .limit(1);
    return rows.length > 0;
  }

  /** The day the video's frame embeddings are on, if it has any: looked for on every day (every partition planned, probed and locked). */
  private async dayOfRows(db: Pick<Database, 'select'>, videoId: string): Promise<string | undefined> {
    const [row] = await db
      .select({ day: sql<string>`${frameEmbeddings.recordedDay}::text` })
      .from(frameEmbeddings)
      .where(eq(frameEmbeddings.videoId, videoId))
      .limit(1);
    return row?.day;
  }

  /**
   * Runs `read` (a query of one video's frame embeddings) on the partition
   * of the video's hinted day: `read(day)` must filter on `recorded_day =
   * day` (and, given undefined, read every day). A video's rows are all on
   * one day, so finding any there (`found`, or any row of the video on that
   * day) makes the result complete. Otherwise its rows, if any, are on
   * another day (its recording time changed after they were written, or a
   * kept hint is stale): looked for on every day, once, and read there.
   */
  private async onVideoDay<T>(
    videoId: string,
    read: (day: string | undefined) => Promise<T>,
    found: (result: T) => boolean,
  ): Promise<T> {
    const hints = dayHintsOf(this.db);
    const hint = (await videoDayHints(this.db, hints, [videoId])).get(videoId);
    // No such video: it has no rows either (they go with it). Read as asked, on every day.
    if (hint === undefined) return read(undefined);
    const result = await read(hint);
    if (found(result) || (await this.hasRowsOn(this.db, videoId, hint))) {
      rememberDay(hints.videos, videoId, hint);
      return result;
    }
    const actual = await this.dayOfRows(this.db, videoId);
    if (actual === undefined) return result; // no rows on any day
    rememberDay(hints.videos, videoId, actual);
    return read(actual);
  }

  /**
   * A video's frames in frame order with their vectors as float32 (each row
   * read in the dtype it was stored in), frames that reuse an earlier frame's
   * vector included: theirs is the same Float32Array as their source's.
   * Throws when a frame reuses a frame that holds no vector.
   */
  async loadVectors(videoId: string, model: string): Promise<FrameVector[]> {
    const rows = await this.onVideoDay(
      videoId,
      (day) =>
        this.db
          .select({
            frameIndex: frameEmbeddings.frameIndex,
            ptsMs: frameEmbeddings.ptsMs,
            dtype: frameEmbeddings.dtype,
            embedding: frameEmbeddings.embedding,
            sameAsFrame: frameEmbeddings.sameAsFrame,
          })
          .from(frameEmbeddings)
          .where(ofVideo(videoId, model, day))
          .orderBy(frameEmbeddings.frameIndex),
      (rows) => rows.length > 0,
    );
    const vectors = new Map<number, Float32Array>();
    for (const r of rows) if (r.embedding) vectors.set(r.frameIndex, decodeEmbedding(r.embedding, r.dtype));
    return rows.map((r) => {
      const sourceFrame = r.embedding ? r.frameIndex : (r.sameAsFrame as number);
      const vector = vectors.get(sourceFrame);
      if (!vector) {
        const source = rows.find((s) => s.frameIndex === sourceFrame);
        throw new Error(
          `frame ${r.frameIndex} of video ${videoId} (model ${model}) reuses the vector of frame ${sourceFrame}, ` +
            (source ? `which reuses frame ${source.sameAsFrame} instead of holding one` : 'which is not stored'),
        );
      }
      return { frameIndex: r.frameIndex, ptsMs: r.ptsMs, vector, sourceFrame };
    });
  }

  /** Frame indices with an embedding (their own or a reused one), in order (for checks and tools). */
  async listFrames(videoId: string, model: string): Promise<{ frameIndex: number; ptsMs: number }[]> {
    return this.onVideoDay(
      videoId,
      (day) =>
        this.db
          .select({ frameIndex: frameEmbeddings.frameIndex, ptsMs: frameEmbeddings.ptsMs })
          .from(frameEmbeddings)
          .where(ofVideo(videoId, model, day))
          .orderBy(frameEmbeddings.frameIndex),
      (rows) => rows.length > 0,
    );
  }

  /** The time (ms into the video) of one sampled frame, if it has an embedding. */
  async ptsOf(videoId: string, model: string, frameIndex: number): Promise<number | undefined> {
    const rows = await this.onVideoDay(
      videoId,
      (day) =>
        this.db
          .select({ ptsMs: frameEmbeddings.ptsMs })
          .from(frameEmbeddings)
          .where(and(ofVideo(videoId, model, day), eq(frameEmbeddings.frameIndex, frameIndex))),
      (rows) => rows.length > 0,
    );
    return rows[0]?.ptsMs;
  }

  /** How many of the frames `fromIndex..toIndex` (inclusive) of a video already have an embedding (own or reused). */
  async countInRange(videoId: string, model: string, fromIndex: number, toIndex: number): Promise<number> {
    return this.onVideoDay(
      videoId,
      async (day) => {
        const [row] = await this.db
          .select({ n: count() })
          .from(frameEmbeddings)
          .where(and(ofVideo(videoId, model, day), between(frameEmbeddings.frameIndex, fromIndex, toIndex)));
        return row?.n ?? 0;
      },
      (n) => n > 0,
    );
  }

  /** What a video's frame embeddings take (of one model, or all): rows holding a vector, rows reusing one, vector bytes. */
  async storageOf(videoId: string, model?: string): Promise<FrameEmbeddingStorage> {
    return this.onVideoDay(
      videoId,
      async (day) => {
        const [row] = await this.db
          .select({
            encodedRows: sql<number>`count(${frameEmbeddings.embedding})::int`,
            reusedRows: sql<number>`(count(*) - count(${frameEmbeddings.embedding}))::int`,
            embeddingBytes: sql<string>`coalesce(sum(octet_length(${frameEmbeddings.embedding})), 0)::text`,
          })
          .from(frameEmbeddings)
          .where(ofVideo(videoId, model, day));
        return {
          encodedRows: row?.encodedRows ?? 0,
          reusedRows: row?.reusedRows ?? 0,
          embeddingBytes: Number(row?.embeddingBytes ?? 0),
        };
      },
      (storage) => storage.encodedRows + storage.reusedRows > 0,
    );
  }
}
