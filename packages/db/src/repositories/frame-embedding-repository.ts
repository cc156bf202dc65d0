import { and, between, count, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import { frameEmbeddings } from '../schema.js';

export class FrameEmbeddingRepository {
  constructor(private readonly db: Database) {}

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
