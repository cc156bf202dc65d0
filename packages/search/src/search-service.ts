import type { SearchableVideo, SearchEvent, SearchExclusions, SearchScope } from '@vad/db';
import { SearchError } from './errors.js';
import type { FrameIndex } from './frame-index.js';
import type { MomentThumbnails } from './moment-thumbnails.js';
import { DEFAULT_MOMENT_OPTIONS, findMoments, type Moment, type ScoreStats, ScoreStatsAccumulator } from './moments.js';
import { type ParsedSearchRequest, type SearchRequest, searchRequestSchema } from './search-request.js';
import type { TextQueries } from './text-queries.js';
import type { VectorCache } from './vector-cache.js';
import type { VideoVectors } from './video-vectors.js';

/** What search reads from the database (SearchRepository and CameraRepository of @vad/db). */
export interface SearchSources {
  searchableVideos(scope: SearchScope): Promise<SearchableVideo[]>;
  exclusions(scope: SearchScope): Promise<SearchExclusions>;
  event(id: number): Promise<SearchEvent | undefined>;
  cameraByName(name: string): Promise<{ id: number } | undefined>;
}

export interface SearchServiceDeps {
  sources: SearchSources;
  texts: TextQueries;
  vectors: VectorCache;
  /** The model's approximate nearest-neighbour index, when one was built (VAD_SEARCH_INDEX=auto). */
  index?: (model: string) => Promise<FrameIndex | undefined>;
  thumbnails?: MomentThumbnails;
  /** The model searched when the request names none (the configured one). */
  defaultModel: string;
  /** Searches over at most this many frames compare with every one; larger ones use the index. */
  exactMaxFrames: number;
}

/** One result: a stretch of adjacent sampled frames of one video that matches the query. */
export interface SearchMoment {
  rank: number;
  videoId: string;
  cameraId: number | null;
  camera: string | null;
  /** Offsets in the video. */
  startMs: number;
  endMs: number;
  /** Absolute times; null when the video's recording time is unknown. */
  startAt: Date | null;
  endAt: Date | null;
  /** The best-matching frame: its index among the sampled frames, offset and time. */
  bestFrame: number;
  bestMs: number;
  bestAt: Date | null;
  /** Cosine of the best frame's embedding with the query. */
  score: number;
  /** The score in standard deviations above its camera's mean for this query (see README "Search"). */
  relativeScore: number;
  /** Sampled frames in the moment. */
  frames: number;
  /** The best frame's thumbnail (relative to the storage root), when asked for and the source is still there. */
  thumbnailPath?: string | null;
}

export interface SearchResult {
  query: { text?: string; likeEvent?: number };
  model: string;
  /** `exact`: every frame in scope compared; `index`: the approximate nearest-neighbour index found the videos. */
  method: 'exact' | 'index';
  videosSearched: number;
  framesSearched: number;
  /** Videos in scope left out, and why (`unindexed`: not yet in the index, and too many to compare exactly). */
  excluded: SearchExclusions & { unindexed: number };
  /** Each camera's score distribution for the query, as relativeScore uses it. */
  cameras: { cameraId: number | null; camera: string | null; mean: number; std: number; frames: number }[];
  moments: SearchMoment[];
  /** Moments found (a lower bound: each video gives at most offset + limit). */
  found: number;
  offset: number;
  limit: number;
  /** The offset of the next page, or null on the last. */
  nextOffset: number | null;
  tookMs: number;
}

interface ScoredVideo {
  video: SearchableVideo;
  vectors: VideoVectors;
  scores: Float32Array;
  mask: Uint8Array | undefined;
}

const LOAD_CONCURRENCY = 4;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

const frameMsOf = (video: SearchableVideo) => 1000 / video.sampleFps;
const cameraKey = (video: SearchableVideo) => video.cameraId ?? -1;

/**
 * Search over stored frame embeddings: a text (through the model's own
 * tokenizer and text encoder) or an event's peak frame is compared by cosine
 * with every sampled frame in scope — each one (exact), or past
 * exactMaxFrames those the nearest-neighbour index finds — and matching
 * frames are merged into moments, ranked by score, each also scored relative
 * to its camera's distribution.
 */
export class SearchService {
  constructor(private readonly deps: SearchServiceDeps) {}

  async search(input: SearchRequest): Promise<SearchResult> {
    const started = performance.now();
    const parsed = searchRequestSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SearchError('bad-input', issue?.message ?? 'bad search', String(issue?.path[0] ?? ''));
    }
    const request = parsed.data;
    const cameraId = request.camera ? await this.cameraId(request.camera) : undefined;
    const { model, vector, exclude } = await this.queryVector(request);
    const scope: SearchScope = { model, cameraId, since: request.since, until: request.until };
    const [candidates, exclusions] = await Promise.all([
      this.deps.sources.searchableVideos(scope),
      this.deps.sources.exclusions(scope),
    ]);
    const wanted = request.offset + request.limit;
    const totalFrames = candidates.reduce((n, v) => n + v.frames, 0);
    const index = totalFrames > this.deps.exactMaxFrames ? await this.deps.index?.(model) : undefined;
    let unindexed = 0;
    let chosen = candidates;
    if (index) {
      const rest = candidates.filter((v) => !index.has(v.id));
      const restFrames = rest.reduce((n, v) => n + v.frames, 0);
      const kept = restFrames <= this.deps.exactMaxFrames ? rest : [];
      unindexed = rest.length - kept.length;
      chosen = [...this.videosFromIndex(index, vector, candidates, wanted), ...kept];
    }
    const scored = await mapLimit(chosen, LOAD_CONCURRENCY, (video) =>
      this.score(video, model, vector, request, exclude),
    );
    const stats = new Map<number, ScoreStatsAccumulator>();
    for (const s of scored) {
      const key = cameraKey(s.video);
      const acc = stats.get(key) ?? new ScoreStatsAccumulator();
      stats.set(key, acc);
      acc.add(s.scores, s.mask);
    }
    const statsOf = (video: SearchableVideo) => stats.get(cameraKey(video))?.stats() as ScoreStats;
    const all: { video: SearchableVideo; moment: Moment }[] = [];
    for (const s of scored) {
      const moments = findMoments(
        {
          frames: s.vectors.frames,
          ptsMs: s.vectors.ptsMs,
          scores: s.scores,
          mask: s.mask,
          frameMs: frameMsOf(s.video),
        },
        statsOf(s.video),
        { ...DEFAULT_MOMENT_OPTIONS, maxMoments: wanted },
      );
      for (const moment of moments) all.push({ video: s.video, moment });
    }
    all.sort(
      (a, b) =>
        b.moment.score - a.moment.score ||
        b.moment.relative - a.moment.relative ||
        a.video.startsAt.getTime() - b.video.startsAt.getTime() ||
        a.moment.startMs - b.moment.startMs,
    );
    const page = all.slice(request.offset, wanted);
    const moments = await Promise.all(
      page.map(({ video, moment }, i) => this.present(video, moment, request.offset + i + 1, request.thumbnails)),
    );
    const cameras = [...new Map(scored.map((s) => [cameraKey(s.video), s.video])).values()].map((video) => ({
      cameraId: video.cameraId,
      camera: video.camera,
      ...statsOf(video),
    }));
    return {
      query: request.text !== undefined ? { text: request.text } : { likeEvent: request.likeEvent as number },
      model,
      method: index ? 'index' : 'exact',
      videosSearched: scored.length,
      framesSearched: scored.reduce((n, s) => n + s.vectors.frameCount, 0),
      excluded: { ...exclusions, unindexed },
      cameras,
      moments,
      found: all.length,
      offset: request.offset,
      limit: request.limit,
      nextOffset: all.length > wanted ? wanted : null,
      tookMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  private async cameraId(name: string): Promise<number> {
    const camera = await this.deps.sources.cameraByName(name);
    if (!camera) throw new SearchError('not-found', `no camera named ${JSON.stringify(name)}`, 'camera');
    return camera.id;
  }

  /** The query vector, the model it belongs to, and what to leave out (a look-alike search: the event itself). */
  private async queryVector(
    request: ParsedSearchRequest,
  ): Promise<{ model: string; vector: Float32Array; exclude?: { videoId: string; fromMs: number; toMs: number } }> {
    if (request.text !== undefined) {
      const model = request.model ?? this.deps.defaultModel;
      return { model, vector: await this.deps.texts.vector(model, request.text) };
    }
    const id = request.likeEvent as number;
    const event = await this.deps.sources.event(id);
    if (!event) throw new SearchError('not-found', `no event ${id}`, 'likeEvent');
    if (event.embeddingsRemovedAt) {
      throw new SearchError(
        'gone',
        `event ${id}'s video had its frame embeddings removed by retention on ` +
          `${event.embeddingsRemovedAt.toISOString().slice(0, 10)}: there is nothing left to compare its look with`,
        'likeEvent',
      );
    }
    if (request.model && request.model !== event.model) {
      throw new SearchError(
        'bad-input',
        `event ${id} was scored with model ${event.model}: it can only be compared with frames of that model`,
        'model',
      );
    }
    const vectors = await this.deps.vectors.get(event.videoId, event.model);
    const peak = vectors.vectorAt(event.peakMs);
    if (!peak) {
      throw new SearchError('gone', `event ${id}'s video has no stored frame embeddings to compare with`, 'likeEvent');
    }
    return {
      model: event.model,
      vector: peak.vector,
      exclude: { videoId: event.videoId, fromMs: event.startMs, toMs: event.endMs },
    };
  }

  /** The videos holding the index's nearest frames among the candidates, best first, enough for `wanted` moments. */
  private videosFromIndex(
    index: FrameIndex,
    vector: Float32Array,
    candidates: readonly SearchableVideo[],
    wanted: number,
  ): SearchableVideo[] {
    const byId = new Map(candidates.map((v) => [v.id, v]));
    const videos = new Map<string, SearchableVideo>();
    // A narrow scope (one camera of many) leaves few of the nearest frames: look further until enough are in it.
    for (let k = Math.max(100, wanted * 10); ; k *= 4) {
      for (const hit of index.search(vector, k)) {
        const video = byId.get(hit.videoId);
        if (video) videos.set(video.id, video);
      }
      if (videos.size >= Math.min(wanted, byId.size) || k >= index.size || k >= 50_000) break;
    }
    return [...videos.values()];
  }

  private async score(
    video: SearchableVideo,
    model: string,
    query: Float32Array,
    request: ParsedSearchRequest,
    exclude: { videoId: string; fromMs: number; toMs: number } | undefined,
  ): Promise<ScoredVideo> {
    const vectors = await this.deps.vectors.get(video.id, model);
    const scores = vectors.frameScores(query);
    const frameMs = frameMsOf(video);
    const start = video.startsAt.getTime();
    const since = request.since?.getTime();
    const until = request.until?.getTime();
    let mask: Uint8Array | undefined;
    const out = (i: number) => {
      const pts = vectors.ptsMs[i] as number;
      if (since !== undefined && start + pts + frameMs <= since) return true;
      if (until !== undefined && start + pts >= until) return true;
      return exclude?.videoId === video.id && pts + frameMs > exclude.fromMs && pts < exclude.toMs;
    };
    // Most videos lie wholly inside the range: no frame to look at one by one.
    const lastEnd = start + (vectors.ptsMs[vectors.frameCount - 1] ?? 0) + frameMs;
    const clipped =
      (since !== undefined && start < since) ||
      (until !== undefined && lastEnd > until) ||
      exclude?.videoId === video.id;
    for (let i = 0; clipped && i < vectors.frameCount; i++) {
      if (!out(i)) continue;
      mask ??= new Uint8Array(vectors.frameCount).fill(1);
      mask[i] = 0;
    }
    return { video, vectors, scores, mask };
  }

  private async present(
    video: SearchableVideo,
    moment: Moment,
    rank: number,
    thumbnails: boolean,
  ): Promise<SearchMoment> {
    const at = (ms: number) => (video.timeKnown ? new Date(video.startsAt.getTime() + ms) : null);
    const presented: SearchMoment = {
      rank,
      videoId: video.id,
      cameraId: video.cameraId,
      camera: video.camera,
      startMs: Math.round(moment.startMs),
      endMs: Math.round(moment.endMs),
      startAt: at(moment.startMs),
      endAt: at(moment.endMs),
      bestFrame: moment.bestFrame,
      bestMs: moment.bestMs,
      bestAt: at(moment.bestMs),
      score: Math.round(moment.score * 1e4) / 1e4,
      relativeScore: Math.round(moment.relative * 100) / 100,
      frames: moment.frames,
    };
    if (thumbnails && this.deps.thumbnails) {
      presented.thumbnailPath = await this.deps.thumbnails.ensure(video, moment.bestFrame, moment.bestMs);
    }
    return presented;
  }
}
