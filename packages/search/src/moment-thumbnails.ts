import type { ThumbnailStore } from '@vad/storage';

/** A video as a thumbnail needs it. */
export interface ThumbnailSource {
  id: string;
  sourceUri: string;
  sourceRemoved: boolean;
}

/**
 * Thumbnails of moments' best frames, made on demand from the source video
 * (one frame decoded at its time) and kept under the storage root, so a
 * result shown again costs a file read. Null when the source is gone
 * (retention) or its frame cannot be decoded.
 */
export class MomentThumbnails {
  private readonly making = new Map<string, Promise<string | null>>();

  constructor(
    private readonly store: ThumbnailStore,
    /** The frame at `timeMs` of a video file, in any image format sharp reads (extractFrameAt of @vad/video). */
    private readonly extract: (path: string, timeMs: number) => Promise<Buffer>,
    private readonly onError?: (error: unknown, video: ThumbnailSource, frameIndex: number) => void,
  ) {}

  async ensure(video: ThumbnailSource, frameIndex: number, ptsMs: number): Promise<string | null> {
    const existing = await this.store.existingFrame(video.id, frameIndex);
    if (existing) return existing;
    if (video.sourceRemoved) return null;
    const key = `${video.id}/${frameIndex}`;
    let pending = this.making.get(key);
    if (!pending) {
      pending = this.extract(video.sourceUri, ptsMs)
        .then((image) => this.store.writeFrame(video.id, frameIndex, image))
        .catch((error: unknown) => {
          this.onError?.(error, video, frameIndex);
          return null;
        })
        .finally(() => this.making.delete(key));
      this.making.set(key, pending);
    }
    return pending;
  }
}
