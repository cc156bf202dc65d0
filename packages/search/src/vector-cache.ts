import { type StoredFrame, VideoVectors } from './video-vectors.js';

/**
 * Videos' frame vectors kept between searches, least recently used out past
 * a memory budget: loading a camera-night from PostgreSQL takes around a
 * second, comparing a query with it a few milliseconds. Loads of the same
 * video at once are shared. Entries are keyed by video and model.
 */
export class VectorCache {
  private readonly entries = new Map<string, VideoVectors>();
  private readonly loading = new Map<string, Promise<VideoVectors>>();
  private held = 0;

  constructor(
    private readonly load: (videoId: string, model: string) => Promise<StoredFrame[]>,
    readonly budgetBytes: number,
  ) {}

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(videoId: string, model: string): Promise<VideoVectors> {
    const key = `${model}\u0000${videoId}`;
    const cached = this.entries.get(key);
    if (cached) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(videoId, model)
        .then((frames) => {
          const vectors = VideoVectors.from(videoId, frames);
          this.put(key, vectors);
          return vectors;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Forgets a video (its embeddings were removed or rewritten). */
  forget(videoId: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.videoId !== videoId) continue;
      this.entries.delete(key);
      this.held -= entry.bytes;
    }
  }

  private put(key: string, vectors: VideoVectors): void {
    this.entries.set(key, vectors);
    this.held += vectors.bytes;
    // The entry just loaded stays even when it alone is over budget: the search in progress needs it.
    for (const [oldKey, old] of this.entries) {
      if (this.held <= this.budgetBytes || oldKey === key) break;
      this.entries.delete(oldKey);
      this.held -= old.bytes;
    }
  }
}
