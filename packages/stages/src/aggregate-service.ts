import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Config, type Logger, pipelineConfigSchema } from '@vad/config';
import type { ClipScoreInput, EventInput, Repositories, Video } from '@vad/db';
import { type AggregateJobData, UnrecoverableError } from '@vad/queue';
import {
  type Aggregator,
  attentionAggregator,
  buildClassSpace,
  type ClassScore,
  type ClassSpace,
  type Clip,
  cutClips,
  expandPrompts,
  extractEvents,
  meanAggregator,
  type PromptSet,
  promptSetSchema,
  refineEvent,
  scoreFeature,
  smoothScores,
  UCF_CRIME_PROMPTS,
} from '@vad/scoring';
import type { SegmentStore, ThumbnailStore } from '@vad/storage';
import { extractFrameAt, type FfmpegBinaries } from '@vad/video';
import { parse as parseYaml } from 'yaml';
import type { JobContext } from './job-context.js';

/** What the aggregator needs of a text encoder (the ClipTextEncoder of @vad/clip). */
export interface PromptEncoder {
  encode(texts: readonly string[]): Promise<Float32Array[]>;
}

/** A learned temporal head (the TemporalHead of @vad/clip): clips of T frame vectors → one feature per clip. */
export interface SequenceHead {
  encode(clips: readonly (readonly Float32Array[])[], validFrames: readonly number[]): Promise<Float32Array[]>;
}

export interface AggregateServiceDeps {
  config: Pick<Config, 'scoring' | 'pipeline'>;
  repos: Pick<Repositories, 'videos' | 'frameEmbeddings' | 'textEmbeddings' | 'scoring'>;
  /** The text encoder of a model, loaded once per model and kept. */
  promptEncoder(model: string): Promise<PromptEncoder>;
  logitScale(model: string): number;
  /** The temporal head for aggregator `onnx`, loaded once. */
  temporalHead?: () => Promise<SequenceHead>;
  thumbnails: ThumbnailStore;
  /** The video's segment folder goes once it is scored: its segments were deleted as they were embedded. */
  segments: Pick<SegmentStore, 'deleteVideo'>;
  binaries: FfmpegBinaries;
  logger: Logger;
}

/** What a scoring mode sees of the video being scored. */
interface ModeInput {
  video: Video;
  /** The clips as cut (frame vectors, valid-frame counts) and their sequence features. */
  clips: Clip<{ ptsMs: number; vector: Float32Array }>[];
  features: Float32Array[];
  /** The prompt scores of each clip. */
  promptScores: { score: ClassScore; startMs: number; endMs: number }[];
  data: AggregateJobData;
}

export interface AggregateResult {
  runId: string;
  clips: number;
  events: number;
}

/** A prompt set from a JSON or YAML file (by extension), validated; the built-in UCF-Crime set when none is given. */
export async function loadPromptSet(file: string | undefined): Promise<PromptSet> {
  if (!file) return UCF_CRIME_PROMPTS;
  const text = await readFile(file, 'utf8');
  const data: unknown = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  const parsed = promptSetSchema.safeParse(data);
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Aggregate one video: cut its frame embeddings into clips (repeat padding),
 * turn each clip into a sequence feature, score it against the prompt set's
 * classes, smooth, extract events with a thumbnail of each peak, and write
 * the run, its clip scores and events in one transaction.
 */
export class AggregateService {
  constructor(private readonly deps: AggregateServiceDeps) {}

  /**
   * A job failed for good. A first scoring fails the video with the reason;
   * a failed rescore (it carries `scoring`) leaves the video done with its
   * earlier results current.
   */
  async recordFailure(data: AggregateJobData, reason: string): Promise<void> {
    if (data.scoring) await this.deps.repos.videos.restoreDone(data.videoId);
    else await this.deps.repos.videos.markFailed(data.videoId, `scoring failed: ${reason}`);
  }

  async aggregate(data: AggregateJobData, context: JobContext): Promise<AggregateResult> {
    const { repos, config, logger } = this.deps;
    const video = await repos.videos.get(data.videoId);
    if (!video) throw new UnrecoverableError(`video ${data.videoId} does not exist`);
    await repos.videos.markAggregating(video.id);

    const frames = await repos.frameEmbeddings.loadVectors(video.id, video.model);
    if (frames.length === 0) throw new UnrecoverableError('the video has no frame embeddings to score');
    // A rescore may ask for other settings than this worker's configured ones.
    const { promptSet: askedPromptSet, ...askedScoring } = data.scoring ?? {};
    const scoring = { ...config.scoring, ...askedScoring };
    const promptSet = askedPromptSet ?? (await loadPromptSet(scoring.promptSetFile));
    const list = expandPrompts(promptSet);
    const prompts = await this.promptEmbeddings(video.model, list.prompts);
    const space = buildClassSpace(list, prompts, this.deps.logitScale(video.model));
    await context.updateProgress({ percent: 30 });

    const recorded = pipelineConfigSchema.safeParse(video.pipelineConfig);
    if (!recorded.success)
      throw new UnrecoverableError(`the video's recorded pipeline config is invalid: ${recorded.error.message}`);
    const { clipFrames, clipStride, sampleFps } = recorded.data;
    const frameMs = 1000 / sampleFps;
    const clips = cutClips(frames, clipFrames, clipStride);
    const features = await this.sequenceFeatures(
      clips.map((clip) => ({ ...clip, frames: clip.frames.map((f) => f.vector) })),
      space,
      scoring.aggregator,
    );
    const scored = clips.map((clip, c) => {
      const score = scoreFeature(features[c] as Float32Array, space);
      const first = clip.frames[0];
      const last = clip.frames[clip.validFrames - 1];
      return { clip, score, startMs: first?.ptsMs ?? 0, endMs: Math.round((last?.ptsMs ?? 0) + frameMs) };
    });
    // Modes other than `prompts` replace each clip's anomaly score (labels and class probabilities stay the prompts').
    const byMode = await this.scoresByMode(scoring.mode, { video, clips, features, promptScores: scored, data });
    if (byMode) {
      for (const [i, s] of scored.entries()) s.score = { ...s.score, anomalyScore: byMode.scores[i] ?? 0 };
    }
    const smoothed = smoothScores(
      scored.map((s) => s.score.anomalyScore),
      scoring.smoothingClips,
    );
    // Each frame scored on its own: sharpens event bounds to frame precision (prompt scores only).
    const frameLevel = byMode
      ? []
      : frames.map((f) => ({ ptsMs: f.ptsMs, score: scoreFeature(f.vector, space).anomalyScore }));
    const spans = extractEvents(
      scored.map((s, i) => ({ startMs: s.startMs, endMs: s.endMs, score: smoothed[i] ?? 0, label: s.score.label })),
      {
        threshold: scoring.threshold,
        minDurationMs: scoring.minDurationMs,
        mergeGapMs: scoring.mergeGapMs,
      },
    ).map((span) => (byMode ? span : refineEvent(span, frameLevel, scoring.threshold, frameMs)));
    await context.updateProgress({ percent: 70 });

    const params = { ...scoring, clipFrames, clipStride, logitScale: space.logitScale };
    const configHash = createHash('sha256')
      .update(JSON.stringify([video.model, promptSet, scoring.aggregator, params]))
      .digest('hex')
      .slice(0, 16);
    const runId = randomUUID();
    const at = (ms: number) => (video.recordedAt ? new Date(video.recordedAt.getTime() + ms) : null);
    const events: EventInput[] = [];
    for (const [n, span] of spans.entries()) {
      const thumbnailPath = await extractFrameAt(video.sourceUri, span.peakMs, this.deps.binaries)
        .then((png) => this.deps.thumbnails.write(video.id, runId, n, png))
        .catch((error: unknown) => {
          logger.warn({ videoId: video.id, err: error }, 'no thumbnail for event');
          return null;
        });
      events.push({ ...span, startAt: at(span.startMs), endAt: at(span.endMs), thumbnailPath });
    }
    const clipRows: ClipScoreInput[] = scored.map((s, i) => ({
      clipIndex: s.clip.index,
      startMs: s.startMs,
      endMs: s.endMs,
      validFrames: s.clip.validFrames,
      anomalyScore: smoothed[i] ?? s.score.anomalyScore,
      label: s.score.label,
      probabilities: Object.fromEntries(space.classes.map((c, k) => [c, s.score.probabilities[k] ?? 0])),
    }));
    const { replacedRunId } = await repos.scoring.saveRun(
      {
        id: runId,
        videoId: video.id,
        model: video.model,
        promptSet: promptSet.name,
        aggregator: scoring.aggregator,
        params,
        configHash,
      },
      clipRows,
      events,
      video.cameraId,
      { markVideoDone: true },
    );
    if (replacedRunId) await this.deps.thumbnails.deleteRun(video.id, replacedRunId);
    await this.deps.segments.deleteVideo(video.id).catch((error: unknown) => {
      logger.warn({ videoId: video.id, err: error }, 'could not remove the segment folder');
    });
    await context.updateProgress({ percent: 100 });
    logger.info({ videoId: video.id, runId, clips: clipRows.length, events: events.length }, 'video scored');
    return { runId, clips: clipRows.length, events: events.length };
  }

  /**
   * Clip anomaly scores (0..1, one per clip) of a scoring mode other than
   * `prompts`; undefined for `prompts`, whose scores are the prompt alignment's.
   */
  private async scoresByMode(
    mode: Config['scoring']['mode'],
    input: ModeInput,
  ): Promise<{ scores: number[] } | undefined> {
    switch (mode) {
      case 'prompts':
        return undefined;
      case 'normality':
      case 'fused':
      case 'learned':
        throw new UnrecoverableError(`scoring mode ${mode} is not available yet (video ${input.video.id})`);
    }
  }

  /** One feature per clip, by the configured strategy. */
  private async sequenceFeatures(
    clips: Clip<Float32Array>[],
    space: ClassSpace,
    strategy: Config['scoring']['aggregator'],
  ): Promise<Float32Array[]> {
    if (strategy === 'onnx') {
      if (!this.deps.temporalHead) throw new UnrecoverableError('VAD_AGGREGATOR=onnx needs VAD_TEMPORAL_HEAD');
      const head = await this.deps.temporalHead();
      return head.encode(
        clips.map((c) => c.frames),
        clips.map((c) => c.validFrames),
      );
    }
    const aggregator: Aggregator = strategy === 'mean' ? meanAggregator : attentionAggregator();
    return clips.map((clip) => aggregator(clip, space));
  }

  /** Prompt embeddings from the cache, encoding (and caching) only the prompts not seen before. */
  private async promptEmbeddings(model: string, prompts: readonly string[]): Promise<Float32Array[]> {
    const unique = [...new Set(prompts)];
    const cached = await this.deps.repos.textEmbeddings.getMany(model, unique);
    const missing = unique.filter((p) => !cached.has(p));
    if (missing.length) {
      const encoder = await this.deps.promptEncoder(model);
      const vectors = await encoder.encode(missing);
      const entries = missing.map((p, i) => [p, vectors[i] as Float32Array] as [string, Float32Array]);
      await this.deps.repos.textEmbeddings.insertMany(model, entries);
      for (const [p, v] of entries) cached.set(p, v);
    }
    return prompts.map((p) => cached.get(p) as Float32Array);
  }
}
