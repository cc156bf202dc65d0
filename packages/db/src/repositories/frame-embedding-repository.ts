import { and, between, count, eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { frameEmbeddings, type NewFrameEmbedding } from '../schema.js';
import { decodeEmbedding } from './embedding-bytes.js';

export class FrameEmbeddingRepository {
  constructor(private readonly db: Database) {}

  /**
   * Writes a segment's embeddings in one statement. Idempotent: a retried job
   * overwrites its rows instead of duplicating them (primary key video, model, frame).
   */
  async upsertMany(rows: NewFrameEmbedding[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insert(frameEmbeddings)
      .values(rows)
      .onConflictDoUpdate({
        target: [frameEmbeddings.videoId, frameEmbeddings.model, frameEmbeddings.frameIndex],
        set: { ptsMs: sql`excluded.pts_ms`, dtype: sql`excluded.dtype`, embedding: sql`excluded.embedding` },
      });
  }

  /** A video's frame embeddings in frame order, as float32 vectors (each row read in the dtype it was stored in). */
  async loadVectors(
    videoId: string,
    model: string,
  ): Promise<{ frameIndex: number; ptsMs: number; vector: Float32Array }[]> {
    const rows = await this.db
      .select({
        frameIndex: frameEmbeddings.frameIndex,
        ptsMs: frameEmbeddings.ptsMs,
        dtype: frameEmbeddings.dtype,
        embedding: frameEmbeddings.embedding,
      })
      .from(frameEmbeddings)
      .where(and(eq(frameEmbeddings.videoId, videoId), eq(frameEmbeddings.model, model)))
      .orderBy(frameEmbeddings.frameIndex);
    return rows.map((r) => ({
      frameIndex: r.frameIndex,
      ptsMs: r.ptsMs,
      vector: decodeEmbedding(r.embedding, r.dtype),
    }));
  }

  /** Frame indices with an embedding, in order (for checks and tools). */
  async listFrames(videoId: string, model: string): Promise<{ frameIndex: number; ptsMs: number }[]> {
    return this.db
      .select({ frameIndex: frameEmbeddings.frameIndex, ptsMs: frameEmbeddings.ptsMs })
      .from(frameEmbeddings)
      .where(and(eq(frameEmbeddings.videoId, videoId), eq(frameEmbeddings.model, model)))
      .orderBy(frameEmbeddings.frameIndex);
  }

  /** How many of the frames `fromIndex..toIndex` (inclusive) of a video already have an embedding. */
  async countInRange(videoId: string, model: string, fromIndex: number, toIndex: number): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(frameEmbeddings)
      .where(
        and(
          eq(frameEmbeddings.videoId, videoId),
          eq(frameEmbeddings.model, model),
          between(frameEmbeddings.frameIndex, fromIndex, toIndex),
        ),
      );
    return row?.n ?? 0;
  }
}
