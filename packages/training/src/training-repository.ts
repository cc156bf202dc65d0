import type { PipelineConfig } from '@vad/config';
import { cameras, type Database, frameEmbeddings, type ReviewSpan, videos } from '@vad/db';
import { and, count, eq, inArray } from 'drizzle-orm';

/** A video as training looks it up: by its file's name, with what decides whether it can be used. */
export interface CandidateVideo {
  id: string;
  sourceUri: string;
  camera: string | null;
  model: string;
  status: string;
  pipelineConfig: PipelineConfig;
  embeddingsRemovedAt: Date | null;
}

/** Where reviews come from: the db package's ReviewRepository (`repos.reviews`). */
export interface ReviewSource {
  spans(query: { videoIds?: readonly string[] | undefined }): Promise<ReviewSpan[]>;
}

/** The reads `vad train` needs and no other repository has. Training never writes to the database. */
export class TrainingRepository {
  constructor(private readonly db: Database) {}

  /** Every video (of a camera, when named) with what name matching and the checks need. */
  async candidates(camera?: string): Promise<CandidateVideo[]> {
    const rows = await this.db
      .select({
        id: videos.id,
        sourceUri: videos.sourceUri,
        camera: cameras.name,
        model: videos.model,
        status: videos.status,
        pipelineConfig: videos.pipelineConfig,
        embeddingsRemovedAt: videos.embeddingsRemovedAt,
      })
      .from(videos)
      .leftJoin(cameras, eq(cameras.id, videos.cameraId))
      .where(camera ? eq(cameras.name, camera) : undefined)
      .orderBy(videos.createdAt, videos.id);
    return rows;
  }

  /** How many frame embeddings of `model` each video has (videos with none are absent). */
  async frameCounts(videoIds: readonly string[], model: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < videoIds.length; i += 1000) {
      const rows = await this.db
        .select({ videoId: frameEmbeddings.videoId, frames: count() })
        .from(frameEmbeddings)
        .where(and(eq(frameEmbeddings.model, model), inArray(frameEmbeddings.videoId, videoIds.slice(i, i + 1000))))
        .groupBy(frameEmbeddings.videoId);
      for (const row of rows) out.set(row.videoId, row.frames);
    }
    return out;
  }
}
