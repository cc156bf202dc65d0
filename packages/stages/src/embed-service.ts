import type { Logger } from '@vad/config';
import { type EmbeddingDtype, encodeEmbedding, type Repositories } from '@vad/db';
import { type EmbedJobData, UnrecoverableError } from '@vad/queue';
import { encodedFrames, type Segment, type SegmentStore } from '@vad/storage';
import type { JobContext } from './job-context.js';

/** What the embed service needs of an image encoder: the batcher of @vad/clip, or anything alike. */
export interface FrameEmbedder {
  readonly model: string;
  readonly inputSize: number;
  /** `onBatch` hears the size of each inference batch that carried some of these frames. */
  embed(rgb: Uint8Array, frames: number, onBatch?: (batchSize: number) => void): Promise<Float32Array[]>;
}

export interface EmbedResult {
  frames: number;
  /** Of `frames`, those encoded (the others reuse an earlier frame's embedding: motion sampling). */
  encoded?: number;
  /** True when an earlier attempt had committed the rows and only the file was left to delete. */
  alreadyEmbedded: boolean;
  /** Size of each inference batch this segment's frames rode in (shared with other jobs' frames). */
  batchSizes: number[];
}

export interface EmbedServiceDeps {
  repos: Pick<Repositories, 'frameEmbeddings'>;
  segments: SegmentStore;
  embedder: FrameEmbedder;
  logger: Logger;
  /** How the vectors are stored (VAD_EMBEDDING_DTYPE; default float16). */
  dtype?: EmbeddingDtype;
}

/**
 * Embed one segment: read its frames, encode them (batched with other jobs'
 * frames by the embedder), write every frame's embedding in one idempotent
 * statement, then delete the segment file, only after the write committed.
 */
export class EmbedService {
  constructor(private readonly deps: EmbedServiceDeps) {}

  async embed(data: EmbedJobData, context: JobContext): Promise<EmbedResult> {
    const { repos, segments, embedder } = this.deps;
    const dtype = this.deps.dtype ?? 'float16';
    if (data.model !== embedder.model) {
      throw new UnrecoverableError(`this embed worker runs model ${embedder.model}, the job needs ${data.model}`);
    }
    const segment = await this.readSegment(data);
    if (!segment) return { frames: data.frameCount, alreadyEmbedded: true, batchSizes: [] };
    const { header, pixels } = segment;
    if (header.width !== embedder.inputSize || header.height !== embedder.inputSize) {
      throw new UnrecoverableError(
        `segment frames are ${header.width}x${header.height}, model ${embedder.model} takes ${embedder.inputSize}x${embedder.inputSize}`,
      );
    }
    // Under motion sampling some frames carry no pixels: they reuse an earlier frame's embedding.
    const encoded = encodedFrames(header).length;
    await context.updateProgress({ percent: 10, frames: header.frames.length, encoded });
    const batchSizes: number[] = [];
    const embeddings = await embedder.embed(pixels, encoded, (size) => batchSizes.push(size));
    await context.updateProgress({ percent: 80, frames: header.frames.length, encoded });

    let next = 0;
    await repos.frameEmbeddings.upsertMany(
      header.frames.map((frame) => {
        const row = { videoId: data.videoId, model: data.model, frameIndex: frame.index, ptsMs: frame.ptsMs, dtype };
        if (frame.sameAs !== undefined) return { ...row, embedding: null, sameAsFrame: frame.sameAs };
        const vector = embeddings[next++] as Float32Array;
        return { ...row, embedding: encodeEmbedding(vector, dtype), sameAsFrame: null };
      }),
    );
    await segments.delete(data.videoId, data.segmentIndex);
    await context.updateProgress({ percent: 100, frames: header.frames.length });
    return { frames: header.frames.length, encoded, alreadyEmbedded: false, batchSizes };
  }

  /** The segment, or undefined when it is gone because an earlier attempt finished everything but the job. */
  private async readSegment(data: EmbedJobData): Promise<Segment | undefined> {
    try {
      return await this.deps.segments.read(data.videoId, data.segmentIndex);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new UnrecoverableError(`segment ${data.segmentIndex} is unreadable: ${(error as Error).message}`);
      }
      const last = data.firstFrameIndex + data.frameCount - 1;
      const done = await this.deps.repos.frameEmbeddings.countInRange(
        data.videoId,
        data.model,
        data.firstFrameIndex,
        last,
      );
      if (done === data.frameCount) return undefined;
      throw new UnrecoverableError(
        `segment ${data.segmentIndex} of video ${data.videoId} is missing and was never embedded`,
      );
    }
  }
}
