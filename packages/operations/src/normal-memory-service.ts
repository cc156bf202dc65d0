import { type Logger, pipelineConfigSchema } from '@vad/config';
import type { CameraVideo, NormalFeatureInput, NormalSource, Repositories } from '@vad/db';
import {
  cutTimedClips,
  farthestPointCoreset,
  NORMAL_MEMORY_MAX,
  overlapsAny,
  poolNormalityFeature,
  type Vector,
} from '@vad/scoring';

/** Learning was asked something it cannot do: nothing was stored. The message says what and what to run. */
export class NormalMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NormalMemoryError';
  }
}

export interface NormalMemoryServiceDeps {
  repos: Pick<Repositories, 'cameras' | 'frameEmbeddings' | 'normalMemory'>;
  logger: Logger;
  /** Most features kept per camera and model (default NORMAL_MEMORY_MAX, 4,000). */
  maxFeatures?: number;
  now?: () => number;
}

export interface LearnOptions {
  /** These videos are normal (source `normal-video`). */
  videos?: readonly string[] | undefined;
  /**
   * A time range (recording time; the time a video was added when that is
   * unknown). Alone: the videos recorded in it are normal (`normal-video`);
   * with `history` / `fromReviews`: the range those read.
   */
  since?: Date | undefined;
  until?: Date | undefined;
  /** Clips of the spans operators marked false alarms (source `false-alarm`). */
  fromReviews?: boolean | undefined;
  /** The camera's recent videos (default: the last 7 days) minus confirmed events (source `history`). */
  history?: boolean | undefined;
  /** First drop the camera's memory (`true`) or its features of one source; alone, only that. */
  clear?: boolean | NormalSource | undefined;
}

export interface LearnResult {
  camera: string;
  /** Features removed by `clear` (counted before learning). */
  cleared: number;
  /** Per model: clips read by source, and the memory's size by source once capped. */
  models: { model: string; read: Record<NormalSource, number>; kept: Record<NormalSource, number>; size: number }[];
  /** Videos read. */
  videos: number;
  /** Videos of a time range left out, and why (an explicit video with a problem is an error instead). */
  skipped: { videoId: string; reason: string }[];
}

const DAY_MS = 86_400_000;
/** The window `history` reads when no `since` is given. */
export const HISTORY_DAYS = 7;
/** When one clip is selected by several sources, it keeps the strongest: an operator's verdict first. */
const PRIORITY: Record<NormalSource, number> = { 'false-alarm': 3, 'normal-video': 2, history: 1 };

const emptyCounts = (): Record<NormalSource, number> => ({ 'normal-video': 0, 'false-alarm': 0, history: 0 });

interface Candidate extends NormalFeatureInput {
  feature: Vector;
}

/**
 * Builds each camera's memory of normal clip features from stored frame
 * embeddings: clips cut as the aggregate stage cuts them (the video's own
 * recorded clip length and stride) and pooled by `poolNormalityFeature`
 * (mean of the distinct frames), the pooling normality scoring uses.
 *
 * - `videos` / a time range alone: every clip of those videos is normal.
 * - `history`: the camera's videos in the range (default the last 7 days),
 *   every clip except those overlapping an event an operator confirmed
 *   (`true` review). Unreviewed events are kept: the prompts' alarms on a
 *   scene that is simply the camera's normal one (the furnace) are what the
 *   memory is there to learn; review the real incidents before learning from
 *   history, or learn from nights known to be normal instead.
 * - `fromReviews`: the clips overlapping the spans operators marked false alarms.
 *
 * Clips overlapping a confirmed event never enter the memory, whatever the
 * source. The new clips join what the memory holds (unless `clear`), and the
 * union is capped by a farthest-point coreset (false alarms kept first); the
 * memory is replaced in one transaction. Every check comes before any write:
 * on an error nothing stored changes.
 */
export class NormalMemoryService {
  constructor(private readonly deps: NormalMemoryServiceDeps) {}

  async learn(cameraName: string, options: LearnOptions): Promise<LearnResult> {
    const { repos, logger } = this.deps;
    const camera = await repos.cameras.findByName(cameraName);
    if (!camera) throw new NormalMemoryError(`unknown camera ${cameraName}`);
    const learning = Boolean(
      options.videos?.length || options.since || options.until || options.history || options.fromReviews,
    );
    const clearSource = typeof options.clear === 'string' ? options.clear : undefined;
    const before = options.clear
      ? (await repos.normalMemory.counts(camera.id))
          .filter((c) => !clearSource || c.source === clearSource)
          .reduce((sum, c) => sum + c.count, 0)
      : 0;
    if (!learning) {
      if (!options.clear) {
        throw new NormalMemoryError(
          `say what camera ${camera.name} shows normally: --videos, --since/--until (nights known to be normal), --history or --from-reviews`,
        );
      }
      const cleared = await repos.normalMemory.clear(camera.id, { source: clearSource });
      logger.info({ camera: camera.name, cleared, source: clearSource }, 'normal memory cleared');
      return { camera: camera.name, cleared, models: [], videos: 0, skipped: [] };
    }
    if (options.videos?.length === 0) throw new NormalMemoryError('--videos names no video');
    if (options.since && options.until && options.since >= options.until)
      throw new NormalMemoryError('--since must be before --until');

    // Which videos, and what each of their clips is (by source).
    const selections: {
      source: NormalSource;
      videos: CameraVideo[];
      explicit: boolean;
      spans?: Map<string, Span[]>;
    }[] = [];
    const range = { since: options.since, until: options.until };
    const rangeText = describeRange(range);
    if (options.videos?.length) {
      const ids = [...new Set(options.videos)];
      const found = await repos.normalMemory.cameraVideos(camera.id, { ids });
      const missing = ids.filter((id) => !found.some((v) => v.id === id));
      if (missing.length) throw new NormalMemoryError(`not videos of camera ${camera.name}: ${missing.join(', ')}`);
      selections.push({ source: 'normal-video', videos: found, explicit: true });
    } else if ((options.since || options.until) && !options.history && !options.fromReviews) {
      const found = await repos.normalMemory.cameraVideos(camera.id, range);
      if (!found.length) throw new NormalMemoryError(`camera ${camera.name} has no videos ${rangeText}`);
      selections.push({ source: 'normal-video', videos: found, explicit: false });
    }
    if (options.history) {
      const since = options.since ?? new Date((this.deps.now ?? Date.now)() - HISTORY_DAYS * DAY_MS);
      const found = await repos.normalMemory.cameraVideos(camera.id, { since, until: options.until });
      if (!found.length)
        throw new NormalMemoryError(
          `camera ${camera.name} has no videos ${describeRange({ since, until: options.until })} to learn its history from`,
        );
      selections.push({ source: 'history', videos: found, explicit: false });
    }
    if (options.fromReviews) {
      const inRange = await repos.normalMemory.cameraVideos(camera.id, range);
      const spans = groupSpans(
        await repos.normalMemory.reviewSpans(
          camera.id,
          'false',
          inRange.map((v) => v.id),
        ),
      );
      if (!spans.size && selections.length === 0)
        throw new NormalMemoryError(
          `camera ${camera.name} has no events reviewed as false alarms${range.since || range.until ? ` ${rangeText}` : ''}`,
        );
      selections.push({
        source: 'false-alarm',
        videos: inRange.filter((v) => spans.has(v.id)),
        explicit: false,
        spans,
      });
    }

    // Each video once; a clip selected twice keeps the stronger source.
    const videos = new Map<string, CameraVideo>();
    for (const s of selections) for (const v of s.videos) videos.set(v.id, v);
    const confirmed = groupSpans(await repos.normalMemory.reviewSpans(camera.id, 'true', [...videos.keys()]));
    const skipped: { videoId: string; reason: string }[] = [];
    const problems: { videoId: string; reason: string; explicit: boolean }[] = [];
    const candidates = new Map<string, Map<string, Candidate>>();
    const read = new Map<string, Record<NormalSource, number>>();
    for (const video of videos.values()) {
      const explicit = selections.some((s) => s.explicit && s.videos.includes(video));
      const clips = await this.clipFeatures(video).catch((error: unknown) => {
        problems.push({ videoId: video.id, reason: (error as Error).message, explicit });
        return undefined;
      });
      if (!clips) continue;
      const byKey = candidates.get(video.model) ?? new Map<string, Candidate>();
      candidates.set(video.model, byKey);
      const counts = read.get(video.model) ?? emptyCounts();
      read.set(video.model, counts);
      for (const s of selections) {
        if (!s.videos.includes(video)) continue;
        const only = s.spans?.get(video.id);
        for (const clip of clips) {
          if (overlapsAny(clip, confirmed.get(video.id) ?? [])) continue;
          if (only && !overlapsAny(clip, only)) continue;
          counts[s.source] += 1;
          const key = `${video.id}:${clip.clipIndex}`;
          const held = byKey.get(key);
          if (!held || PRIORITY[s.source] > PRIORITY[held.source])
            byKey.set(key, { videoId: video.id, clipIndex: clip.clipIndex, source: s.source, feature: clip.feature });
        }
      }
    }
    const explicitProblems = problems.filter((p) => p.explicit);
    if (explicitProblems.length || (problems.length && !candidates.size)) {
      const listed = (explicitProblems.length ? explicitProblems : problems).map((p) => `${p.videoId} (${p.reason})`);
      throw new NormalMemoryError(`cannot learn from ${listed.join('; ')}`);
    }
    skipped.push(...problems.map(({ videoId, reason }) => ({ videoId, reason })));
    const total = [...candidates.values()].reduce((sum, m) => sum + m.size, 0);
    if (total === 0)
      throw new NormalMemoryError(
        `no normal clips to learn for camera ${camera.name}: every selected clip overlaps an event confirmed as real`,
      );

    // Join what the memory holds, cap, replace.
    const max = this.deps.maxFeatures ?? NORMAL_MEMORY_MAX;
    const memories: { model: string; rows: NormalFeatureInput[] }[] = [];
    const models: LearnResult['models'] = [];
    for (const [model, fresh] of candidates) {
      const held =
        options.clear === true
          ? []
          : (await repos.normalMemory.load(camera.id, model)).filter((r) => !clearSource || r.source !== clearSource);
      const union = new Map<string, Candidate>();
      for (const row of held)
        union.set(row.videoId === null ? `row:${row.id}` : `${row.videoId}:${row.clipIndex}`, row);
      for (const [key, c] of fresh) {
        const h = union.get(key);
        if (!h || PRIORITY[c.source] >= PRIORITY[h.source]) union.set(key, c);
      }
      const all = [...union.values()];
      const dims = new Set(all.map((c) => c.feature.length));
      if (dims.size > 1)
        throw new NormalMemoryError(
          `camera ${camera.name}'s memory for ${model} mixes features of ${[...dims].join(' and ')} dimensions: relearn it with --clear`,
        );
      const seeds = all.flatMap((c, i) => (c.source === 'false-alarm' ? [i] : []));
      const kept = farthestPointCoreset(
        all.map((c) => c.feature),
        max,
        seeds,
      ).map((i) => all[i] as Candidate);
      const keptCounts = emptyCounts();
      for (const c of kept) keptCounts[c.source] += 1;
      memories.push({
        model,
        rows: kept.map((c) => ({ videoId: c.videoId, clipIndex: c.clipIndex, source: c.source, feature: c.feature })),
      });
      models.push({ model, read: read.get(model) ?? emptyCounts(), kept: keptCounts, size: kept.length });
    }
    await repos.normalMemory.replace(camera.id, memories, options.clear ? { source: clearSource } : undefined);
    logger.info({ camera: camera.name, models, skipped: skipped.length, cleared: before }, 'normal memory learned');
    return { camera: camera.name, cleared: before, models, videos: videos.size - problems.length, skipped };
  }

  /** The video's clips as the aggregate stage cuts them, each with its normality feature and time span. */
  private async clipFeatures(
    video: CameraVideo,
  ): Promise<{ clipIndex: number; startMs: number; endMs: number; feature: Vector }[]> {
    if (video.embeddingsRemovedAt) throw new Error('retention removed its frame embeddings');
    const frames = await this.deps.repos.frameEmbeddings.loadVectors(video.id, video.model);
    if (!frames.length)
      throw new Error(
        video.status === 'done' ? 'it has no frame embeddings' : `it has no frame embeddings yet (${video.status})`,
      );
    const config = pipelineConfigSchema.safeParse(video.pipelineConfig);
    if (!config.success) throw new Error('its recorded pipeline config is invalid');
    return cutTimedClips(frames, config.data).map((clip) => ({
      clipIndex: clip.index,
      startMs: clip.startMs,
      endMs: clip.endMs,
      feature: poolNormalityFeature({ ...clip, frames: clip.frames.map((f) => f.vector) }),
    }));
  }
}

interface Span {
  startMs: number;
  endMs: number;
}

function groupSpans(spans: readonly { videoId: string; startMs: number; endMs: number }[]): Map<string, Span[]> {
  const byVideo = new Map<string, Span[]>();
  for (const s of spans) {
    const list = byVideo.get(s.videoId) ?? [];
    list.push({ startMs: s.startMs, endMs: s.endMs });
    byVideo.set(s.videoId, list);
  }
  return byVideo;
}

function describeRange({ since, until }: { since?: Date | undefined; until?: Date | undefined }): string {
  if (since && until) return `recorded from ${since.toISOString()} to ${until.toISOString()}`;
  if (since) return `recorded since ${since.toISOString()}`;
  if (until) return `recorded before ${until.toISOString()}`;
  return 'at all';
}
