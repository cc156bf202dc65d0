import type { SearchableVideo, SearchScope } from '@vad/db';
import { FrameIndex } from './frame-index.js';
import { type StoredFrame, VideoVectors } from './video-vectors.js';

export interface IndexUpdate {
  model: string;
  /** Videos added to the index, and removed from it (no longer searchable: retention, deletion, failed rescore). */
  added: number;
  removed: number;
  videos: number;
  vectors: number;
  rebuilt: boolean;
  tookMs: number;
}

export interface SearchIndexDeps {
  /** Folder of the indexes, one subfolder per model (`<storage>/search-index`). */
  root: string;
  searchableVideos(scope: SearchScope): Promise<SearchableVideo[]>;
  loadVectors(videoId: string, model: string): Promise<StoredFrame[]>;
  /** Threads usearch adds with (0: all cores). */
  threads?: number;
}

/**
 * Keeps each model's nearest-neighbour index in step with the database
 * (`vad search-index`, and the scheduler when VAD_SEARCH_INDEX=auto), and
 * gives searches the latest saved one, reloaded when another process saved
 * a newer one.
 */
export class SearchIndexService {
  private readonly loaded = new Map<string, { index: FrameIndex; savedAt: number | undefined; checkedAt: number }>();

  constructor(private readonly deps: SearchIndexDeps) {}

  folder(model: string): string {
    return FrameIndex.folder(this.deps.root, model);
  }

  /** Adds the searchable videos the index lacks and removes those no longer searchable; saves it when it changed. */
  async update(
    model: string,
    options: { rebuild?: boolean; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<IndexUpdate> {
    const started = performance.now();
    const folder = this.folder(model);
    const existing = options.rebuild ? undefined : await FrameIndex.load(folder);
    const videos = await this.deps.searchableVideos({ model });
    const wanted = new Set(videos.map((v) => v.id));
    let index = existing;
    const stale = index ? index.videoIds().filter((id) => !wanted.has(id)) : [];
    for (const id of stale) index?.remove(id);
    const missing = videos.filter((v) => !index?.has(v.id));
    let added = 0;
    for (const video of missing) {
      const frames = await this.deps.loadVectors(video.id, model);
      const vectors = VideoVectors.from(video.id, frames);
      if (vectors.rowCount === 0) continue;
      index ??= FrameIndex.create(model, vectors.dim);
      const rows = vectors.rows();
      index.add({ id: video.id, cameraId: video.cameraId }, rows.frames, rows.matrix, this.deps.threads ?? 0);
      added++;
      options.onProgress?.(added, missing.length);
    }
    if (index && (added || stale.length || options.rebuild)) await index.save(folder);
    if (index) this.loaded.set(model, { index, savedAt: await FrameIndex.savedAt(folder), checkedAt: Date.now() });
    return {
      model,
      added,
      removed: stale.length,
      videos: index?.videoCount ?? 0,
      vectors: index?.size ?? 0,
      rebuilt: options.rebuild ?? false,
      tookMs: Math.round(performance.now() - started),
    };
  }

  /**
   * Brings the model's index up to date when it is worth having: it exists
   * already, or the searchable frames outnumber what exact search takes
   * (`exactMaxFrames`). Undefined when neither (nothing done).
   */
  async maintain(model: string, exactMaxFrames: number): Promise<IndexUpdate | undefined> {
    if (!(await FrameIndex.savedAt(this.folder(model)))) {
      const videos = await this.deps.searchableVideos({ model });
      if (videos.reduce((n, v) => n + v.frames, 0) <= exactMaxFrames) return undefined;
    }
    return this.update(model);
  }

  /** The model's saved index (reloaded when saved again since, checked at most every 10 s), or undefined when none was built. */
  async index(model: string): Promise<FrameIndex | undefined> {
    const folder = this.folder(model);
    const held = this.loaded.get(model);
    if (held && Date.now() - held.checkedAt < 10_000) return held.index;
    const savedAt = await FrameIndex.savedAt(folder);
    if (held && savedAt === held.savedAt) {
      held.checkedAt = Date.now();
      return held.index;
    }
    if (savedAt === undefined) {
      this.loaded.delete(model);
      return undefined;
    }
    const index = await FrameIndex.load(folder);
    if (index) this.loaded.set(model, { index, savedAt, checkedAt: Date.now() });
    return index;
  }
}
