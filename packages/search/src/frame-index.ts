import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import usearch from 'usearch';

const { Index, MetricKind, ScalarKind } = usearch;
type UsearchIndex = InstanceType<typeof Index>;

/**
 * HNSW settings: vectors kept as float16 (half the memory of float32, recall
 * unchanged at CLIP's 512 dimensions), 16 links per node, and the candidate
 * lists of construction and search. Measured by `npm run search -w @vad/bench`.
 */
export const INDEX_SETTINGS = { connectivity: 16, expansionAdd: 64, expansionSearch: 512 } as const;

interface IndexedVideo {
  id: string;
  cameraId: number | null;
  /** Keys firstKey … firstKey + frames.length - 1 are this video's rows, in order. */
  firstKey: number;
  /** The frame of each row (a distinct stored vector). */
  frames: number[];
}

interface IndexMeta {
  version: 1;
  model: string;
  dim: number;
  nextKey: number;
  videos: IndexedVideo[];
  updatedAt: string;
}

export interface IndexHit {
  videoId: string;
  frameIndex: number;
  score: number;
}

/**
 * An approximate nearest-neighbour index (HNSW, by usearch) of every
 * distinct stored frame vector of one model, for searches over more frames
 * than comparing with each is worth. Keys are consecutive per video; the
 * key → (video, frame) table lives beside the index file. Videos are added
 * whole and removed whole (retention, deletion).
 */
export class FrameIndex {
  private readonly byKey: { video: IndexedVideo; start: number }[] = [];
  private readonly videos = new Map<string, IndexedVideo>();

  private constructor(
    private readonly index: UsearchIndex,
    private meta: IndexMeta,
  ) {
    for (const video of meta.videos) this.track(video);
  }

  static create(model: string, dim: number): FrameIndex {
    return new FrameIndex(FrameIndex.empty(dim), {
      version: 1,
      model,
      dim,
      nextKey: 0,
      videos: [],
      updatedAt: new Date().toISOString(),
    });
  }

  private static empty(dim: number): UsearchIndex {
    return new Index({
      dimensions: dim,
      metric: MetricKind.IP,
      quantization: ScalarKind.F16,
      connectivity: INDEX_SETTINGS.connectivity,
      expansion_add: INDEX_SETTINGS.expansionAdd,
      expansion_search: INDEX_SETTINGS.expansionSearch,
      multi: false,
    });
  }

  /** Where a model's index lives under a folder. */
  static folder(root: string, model: string): string {
    return join(root, model);
  }

  /** The saved index of a folder, or undefined when none was saved. */
  static async load(folder: string): Promise<FrameIndex | undefined> {
    const metaPath = join(folder, 'index.json');
    if (!existsSync(metaPath)) return undefined;
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as IndexMeta;
    if (meta.version !== 1) throw new Error(`${metaPath}: index format ${meta.version} is not known to this version`);
    const index = FrameIndex.empty(meta.dim);
    index.load(join(folder, 'index.usearch'));
    return new FrameIndex(index, meta);
  }

  /** When the folder's index was last saved (to reload it when another process updated it). */
  static async savedAt(folder: string): Promise<number | undefined> {
    return (await stat(join(folder, 'index.json')).catch(() => undefined))?.mtimeMs;
  }

  get model(): string {
    return this.meta.model;
  }

  get dim(): number {
    return this.meta.dim;
  }

  get videoCount(): number {
    return this.videos.size;
  }

  /** Vectors in the index. */
  get size(): number {
    return this.index.size();
  }

  has(videoId: string): boolean {
    return this.videos.has(videoId);
  }

  videoIds(): string[] {
    return [...this.videos.keys()];
  }

  /** Adds a video's distinct vectors (rows × dim, unit length) with the frame of each; replaces the video if present. */
  add(video: { id: string; cameraId: number | null }, frames: Int32Array, matrix: Float32Array, threads = 0): void {
    if (matrix.length !== frames.length * this.dim)
      throw new Error(`${frames.length} frames need ${frames.length * this.dim} floats, not ${matrix.length}`);
    if (this.videos.has(video.id)) this.remove(video.id);
    if (frames.length === 0) return;
    const entry: IndexedVideo = { ...video, firstKey: this.meta.nextKey, frames: [...frames] };
    const keys = new BigUint64Array(frames.length);
    for (let i = 0; i < frames.length; i++) keys[i] = BigInt(entry.firstKey + i);
    this.index.add(keys, matrix, threads);
    this.meta.nextKey += frames.length;
    this.meta.videos.push(entry);
    this.track(entry);
  }

  remove(videoId: string): void {
    const video = this.videos.get(videoId);
    if (!video) return;
    const keys = new BigUint64Array(video.frames.length);
    for (let i = 0; i < keys.length; i++) keys[i] = BigInt(video.firstKey + i);
    this.index.remove(keys);
    this.videos.delete(videoId);
    this.meta.videos = this.meta.videos.filter((v) => v.id !== videoId);
    // byKey keeps a hole for the removed keys: they are never returned again.
  }

  /** The k vectors nearest `query` (unit length), best first; score = cosine. */
  search(query: Float32Array, k: number, threads = 0): IndexHit[] {
    if (this.size === 0) return [];
    const matches = this.index.search(query, Math.min(k, this.size), threads);
    const hits: IndexHit[] = [];
    matches.keys.forEach((key, i) => {
      const slot = this.byKey[Number(key)];
      if (!slot || !this.videos.has(slot.video.id)) return;
      hits.push({
        videoId: slot.video.id,
        frameIndex: slot.video.frames[Number(key) - slot.start] as number,
        score: 1 - (matches.distances[i] as number),
      });
    });
    return hits;
  }

  /** Writes the index and its table to `folder`, each replaced atomically (the table last: readers reload on it). */
  async save(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    this.meta.updatedAt = new Date().toISOString();
    const indexPath = join(folder, 'index.usearch');
    this.index.save(`${indexPath}.tmp`);
    await rename(`${indexPath}.tmp`, indexPath);
    const metaPath = join(folder, 'index.json');
    await writeFile(`${metaPath}.tmp`, JSON.stringify(this.meta));
    await rename(`${metaPath}.tmp`, metaPath);
  }

  private track(video: IndexedVideo): void {
    this.videos.set(video.id, video);
    const slot = { video, start: video.firstKey };
    for (let i = 0; i < video.frames.length; i++) this.byKey[video.firstKey + i] = slot;
  }
}
