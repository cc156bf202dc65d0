import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Config, type Logger, pipelineConfigSchema, type ScoringMode } from '@vad/config';
import type { Camera, ClipScoreInput, EventInput, Repositories, Video } from '@vad/db';
import { type AggregateJobData, UnrecoverableError } from '@vad/queue';
import {
  type Aggregator,
  attentionAggregator,
  buildClassSpace,
  buildNormalMemory,
  type ClassScore,
  type ClassSpace,
  type Clip,
  cachedPromptEmbeddings,
  cutTimedClips,
  expandPrompts,
  extractEvents,
  frameDurationMs,
  fuseScores,
  meanAggregator,
  type NormalMemory,
  normalityScores,
  type PromptSet,
  poolNormalityFeature,
  promptSetSchema,
  refineEvent,
  scoreFeature,
  smoothScores,
  softmax,
  UCF_CRIME_PROMPTS,
} from '@vad/scoring';
import type { EventClipStore, SegmentStore, ThumbnailStore } from '@vad/storage';
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

/** A head trained by `vad train` (the LearnedHead of @vad/clip): a video's clip features → per-clip score and class logits. */
export interface ScoringHead {
  readonly file: string;
  readonly sha256: string;
  readonly info: {
    classes: string[];
    normalIndex: number;
    namedClasses: boolean;
    embeddingSize: number;
    model?: string;
  };
  run(features: readonly Float32Array[]): Promise<{ scores: number[]; logits: Float32Array[] }>;
}

/** Clip anomaly scores of a scoring mode; a learned head with named classes gives labels and probabilities too. */
interface ModeScores {
  scores: number[];
  labels?: string[];
  probabilities?: Record<string, number>[];
  /** What identifies the mode's model in the run's params (and so its config hash). */
  params?: Record<string, unknown>;
}

/** The mean aggregator reads no class space: the clip features a learned head takes (as `vad train` makes them). */
const NO_CLASSES: ClassSpace = { classes: [], normalIndex: 0, embeddings: [], logitScale: 1 };

export interface AggregateServiceDeps {
  config: Pick<Config, 'scoring' | 'pipeline'>;
  repos: Pick<Repositories, 'videos' | 'frameEmbeddings' | 'textEmbeddings' | 'scoring' | 'cameras' | 'normalMemory'>;
  /** The text encoder of a model, loaded once per model and kept. */
  promptEncoder(model: string): Promise<PromptEncoder>;
  logitScale(model: string): number;
  /** The temporal head for aggregator `onnx`, loaded once. */
  temporalHead?: () => Promise<SequenceHead>;
  /** The head for mode `learned`: a head name (rescores: `<model dir>/heads/NAME.onnx`) or VAD_SCORING_HEAD's path. */
  learnedHead?: (head: { name: string } | { path: string }) => Promise<ScoringHead>;
  thumbnails: ThumbnailStore;
  /** Event clips (made by the API on request): those of a run a rescore replaces go with it. */
  clips: Pick<EventClipStore, 'deleteRun'>;
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

/**
 * A camera's calibration (`vad cameras calibrate`) as scoring settings: the
 * mode it is scored in, and its threshold where the mode scored in is the
 * one the threshold was calibrated for. What a rescore asks for wins over both.
 */
export function cameraScoring(
  camera: Pick<Camera, 'threshold' | 'scoringMode'> | undefined,
  configured: ScoringMode,
  asked: { mode?: ScoringMode | undefined; threshold?: number | undefined },
): { mode?: ScoringMode; threshold?: number } {
  if (!camera) return {};
  const calibratedFor = camera.scoringMode ?? configured;
  const mode = asked.mode ?? calibratedFor;
  return {
    ...(camera.scoringMode ? { mode: camera.scoringMode } : {}),
    // Stored as a `real`: back to the value calibrated (a multiple of 0.001), not its float32 neighbour.
    ...(camera.threshold !== null && mode === calibratedFor ? { threshold: Number(camera.threshold.toFixed(6)) } : {}),
  };
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
    // A calibrated camera is scored in its mode with its threshold, unless the rescore asked for others.
    const camera = video.cameraId === null ? undefined : await repos.cameras.get(video.cameraId);
    const scoring = { ...config.scoring, ...cameraScoring(camera, config.scoring.mode, askedScoring), ...askedScoring };
    const promptSet = askedPromptSet ?? (await loadPromptSet(scoring.promptSetFile));
    const list = expandPrompts(promptSet);
    const prompts = await this.promptEmbeddings(video.model, list.prompts);
    const space = buildClassSpace(list, prompts, this.deps.logitScale(video.model));
    await context.updateProgress({ percent: 30 });

    const recorded = pipelineConfigSchema.safeParse(video.pipelineConfig);
    if (!recorded.success)
      throw new UnrecoverableError(`the video's recorded pipeline config is invalid: ${recorded.error.message}`);
    const frameMs = frameDurationMs(frames, recorded.data);
    const clips = cutTimedClips(frames, recorded.data);
    const features = await this.sequenceFeatures(
      clips.map((clip) => ({ ...clip, frames: clip.frames.map((f) => f.vector) })),
      space,
      scoring.aggregator,
    );
    const scored = clips.map((clip, c) => {
      const score = scoreFeature(features[c] as Float32Array, space);
      return { clip, score, startMs: clip.startMs, endMs: clip.endMs };
    });
    // Modes other than `prompts` replace each clip's anomaly score (labels and class probabilities stay the
    // prompts', but a learned head's with classes of its own).
    const byMode = await this.scoresByMode(scoring.mode, { video, clips, features, promptScores: scored, data });
    if (byMode) {
      for (const [i, s] of scored.entries())
        s.score = { ...s.score, anomalyScore: byMode.scores[i] ?? 0, label: byMode.labels?.[i] ?? s.score.label };
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

    const { clipFrames, clipStride } = recorded.data;
    const params = { ...scoring, ...byMode?.params, clipFrames, clipStride, logitScale: space.logitScale };
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
      probabilities:
        byMode?.probabilities?.[i] ??
        Object.fromEntries(space.classes.map((c, k) => [c, s.score.probabilities[k] ?? 0])),
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
    if (replacedRunId) {
      await this.deps.thumbnails.deleteRun(video.id, replacedRunId);
      await this.deps.clips.deleteRun(video.id, replacedRunId);
    }
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
  private async scoresByMode(mode: Config['scoring']['mode'], input: ModeInput): Promise<ModeScores | undefined> {
    switch (mode) {
      case 'prompts':
        return undefined;
      case 'normality':
      case 'fused':
        return this.normalityScores(mode, input);
      case 'learned':
        return this.learnedScores(input);
    }
  }

  /**
   * Mode `learned`: a head trained by `vad train` scores the video's clips
   * (each the L2-normalised mean of its distinct frames, whatever the
   * aggregator: the features it was trained on). A rescore names the head
   * (a file in `<model dir>/heads`, never a path); otherwise
   * VAD_SCORING_HEAD. The run's params record the head's name and sha256.
   */
  private async learnedScores(input: ModeInput): Promise<ModeScores> {
    const { video, data } = input;
    const asked = data.scoring?.head;
    const configured = this.deps.config.scoring.head;
    if (asked !== undefined && !/^[A-Za-z0-9_][\w.-]{0,127}$/.test(asked))
      throw new UnrecoverableError(
        `head "${asked}" is not a head name: a rescore names a head in <VAD_MODEL_DIR>/heads (letters, digits, . _ -; no path)`,
      );
    if (asked === undefined && !configured)
      throw new UnrecoverableError(
        'scoring mode learned needs a head: VAD_SCORING_HEAD on the aggregate workers, or a rescore naming one',
      );
    if (!this.deps.learnedHead) throw new UnrecoverableError('this aggregate worker cannot load learned heads');
    const ref = asked !== undefined ? { name: asked } : { path: configured as string };
    const head = await this.deps.learnedHead(ref).catch((error: unknown) => {
      throw new UnrecoverableError(`learned head ${asked ?? configured}: ${(error as Error).message}`);
    });
    const name = head.file.replace(/^.*[/\\]/, '').replace(/\.onnx$/, '');
    if (head.info.model && head.info.model !== video.model)
      throw new UnrecoverableError(
        `head ${name} was trained on ${head.info.model} embeddings; video ${video.id} is embedded with ${video.model}`,
      );
    const features = input.clips.map((clip) =>
      meanAggregator({ ...clip, frames: clip.frames.map((f) => f.vector) }, NO_CLASSES),
    );
    if (features[0] && features[0].length !== head.info.embeddingSize)
      throw new UnrecoverableError(
        `head ${name} takes ${head.info.embeddingSize}-d features; video ${video.id}'s are ${features[0].length}-d`,
      );
    const out = await head.run(features);
    const params = { head: { name, sha256: head.sha256, classes: head.info.classes } };
    if (!head.info.namedClasses) return { scores: out.scores, params };
    // A head trained with class names labels each clip with its most likely anomaly class.
    const { classes, normalIndex } = head.info;
    const probabilities = out.logits.map((logits) => softmax(Array.from(logits)));
    const labels = probabilities.map((p) => {
      let best = -1;
      p.forEach((v, k) => {
        if (k !== normalIndex && (best < 0 || v > (p[best] as number))) best = k;
      });
      return classes[best] ?? 'unknown';
    });
    return {
      scores: out.scores,
      labels,
      probabilities: probabilities.map((p) => Object.fromEntries(classes.map((c, k) => [c, p[k] ?? 0]))),
      params,
    };
  }

  /**
   * Modes `normality` and `fused` (packages/scoring/src/normality.ts): each
   * clip's mean-pooled feature (the pooling the memory was learned with,
   * whatever the aggregator) against the camera's normal memory for the
   * video's model, loaded once per job, leaving out the video's own clips
   * (but not those marked false alarms); `fused` combines that with the
   * clip's prompt score by fuseScores.
   */
  private async normalityScores(mode: 'normality' | 'fused', input: ModeInput): Promise<{ scores: number[] }> {
    const { video } = input;
    const { repos, logger } = this.deps;
    if (video.cameraId === null)
      throw new UnrecoverableError(
        `scoring mode ${mode} compares a video with its camera's normal scene: video ${video.id} has no camera`,
      );
    const name = (await repos.cameras.get(video.cameraId))?.name ?? `#${video.cameraId}`;
    const learn = `vad cameras learn-normal ${name}`;
    const rows = await repos.normalMemory.load(video.cameraId, video.model);
    if (!rows.length)
      throw new UnrecoverableError(
        `camera ${name} has no normal memory for model ${video.model}: run ${learn} (--videos, --since/--until, --history or --from-reviews)`,
      );
    if (rows.every((r) => r.videoId === video.id && r.source !== 'false-alarm'))
      throw new UnrecoverableError(
        `camera ${name}'s normal memory holds only clips of this video (${video.id}): run ${learn} with other videos too`,
      );
    let memory: NormalMemory;
    try {
      // Marked false alarms are compared with their own video too: rescoring it clears them.
      memory = buildNormalMemory(rows.map((r) => ({ ...r, pinned: r.source === 'false-alarm' })));
    } catch (error) {
      throw new UnrecoverableError(
        `camera ${name}'s normal memory cannot be used (${(error as Error).message}): run ${learn} --clear …`,
      );
    }
    const features = input.clips.map((clip) =>
      poolNormalityFeature({ ...clip, frames: clip.frames.map((f) => f.vector) }),
    );
    if (features[0] && features[0].length !== memory.dim)
      throw new UnrecoverableError(
        `camera ${name}'s normal memory has features of ${memory.dim} dimensions, model ${video.model} ${features[0].length}: run ${learn} --clear …`,
      );
    const normality = normalityScores(features, memory, { excludeVideo: video.id });
    logger.debug(
      { videoId: video.id, camera: name, memory: memory.size, center: memory.center, scale: memory.scale },
      'scored against the normal memory',
    );
    if (mode === 'normality') return { scores: normality };
    return {
      scores: normality.map((n, i) => fuseScores(n, input.promptScores[i]?.score.anomalyScore ?? 0)),
    };
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
    return cachedPromptEmbeddings(this.deps.repos.textEmbeddings, model, prompts, async (missing) =>
      (await this.deps.promptEncoder(model)).encode(missing),
    );
  }
}
