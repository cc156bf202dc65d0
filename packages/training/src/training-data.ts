import { basename } from 'node:path';
import { pipelineConfigSchema } from '@vad/config';
import type { FrameEmbeddingRepository, ReviewSpan } from '@vad/db';
import { type ClassSpace, type Clip, cutTimedClips, meanAggregator } from '@vad/scoring';
import type { FrameLabel, VideoLabel } from './labels.js';
import type { CandidateVideo, ReviewSource, TrainingRepository } from './training-repository.js';
import {
  GENERIC_ANOMALY_CLASS,
  NORMAL_CLASS,
  TrainingDataError,
  type TrainingSet,
  type TrainingVideo,
} from './training-set.js';

/** Where a training set is read from. */
export interface TrainingSources {
  repository: Pick<TrainingRepository, 'candidates' | 'frameCounts'>;
  frameEmbeddings: Pick<FrameEmbeddingRepository, 'loadVectors'>;
  /** Operators' reviews (the db's ReviewRepository). */
  reviews?: ReviewSource;
}

export interface TrainingSetOptions {
  /** The embedding model: only its videos and frame vectors are used. */
  model: string;
  /** The model's embedding width, when known: vectors of another width are refused. */
  embeddingSize?: number;
  labels?: readonly VideoLabel[];
  frameLabels?: readonly FrameLabel[];
  /** Reviewed events as labels: confirmed (true) → anomalous clips with the event's label, false alarms → normal clips. */
  useReviews?: boolean;
  /** Match video names on this camera only. */
  camera?: string;
  /** After each video's features are read. */
  onVideo?: (done: number, total: number, name: string) => void;
}

/** Whether `name` names the file at `sourceUri`: its base name, with or without extension, case-insensitive. */
export function namesVideo(name: string, sourceUri: string): boolean {
  const base = basename(sourceUri).toLowerCase();
  const wanted = name.toLowerCase();
  return base === wanted || base.replace(/\.[^.]*$/, '') === wanted;
}

/** The mean aggregator ignores the class space; clip features here are exactly the aggregate stage's `mean` ones. */
const NO_SPACE: ClassSpace = { classes: [], normalIndex: 0, embeddings: [], logitScale: 1 };

/** Per clip, the share of its distinct frames inside `spans` and the class of the span holding most of them. */
function coverage(
  clip: Clip<{ ptsMs: number }>,
  spans: readonly { startMs: number; endMs: number; className: string | undefined }[],
): { share: number; className: string | undefined } {
  const votes = new Map<string | undefined, number>();
  let inside = 0;
  for (const frame of clip.frames.slice(0, clip.validFrames)) {
    const span = spans.find((s) => frame.ptsMs >= s.startMs && frame.ptsMs < s.endMs);
    if (!span) continue;
    inside++;
    votes.set(span.className, (votes.get(span.className) ?? 0) + 1);
  }
  const className = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return { share: inside / clip.validFrames, className };
}

/** What is known of one video before its features are read. */
interface Planned {
  video: CandidateVideo;
  name: string;
  /** Where it was named (file:line), or `review` for a video known from reviews only. */
  where: string;
  label: 0 | 1 | null;
  className: string | undefined;
  intervals: FrameLabel[];
  reviews: ReviewSpan[];
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/**
 * Reads a training set from the database: matches every label's video name
 * to one stored video of the model, checks that each has frame embeddings,
 * then reads them one video at a time (cut into clips with the video's own
 * recorded clip frames and stride, as the aggregate stage does; each clip
 * the L2-normalised mean of its distinct frames), keeping one Float32Array
 * of clip features per video. Every problem is reported at once, each
 * naming its file line or video; nothing is written anywhere.
 */
export async function loadTrainingSet(sources: TrainingSources, options: TrainingSetOptions): Promise<TrainingSet> {
  const problems: string[] = [];
  const candidates = await sources.repository.candidates(options.camera);
  const byName = new Map<string, CandidateVideo[]>();
  for (const video of candidates) {
    const base = basename(video.sourceUri).toLowerCase();
    for (const key of new Set([base, base.replace(/\.[^.]*$/, '')])) {
      const list = byName.get(key) ?? [];
      list.push(video);
      byName.set(key, list);
    }
  }
  const on = options.camera ? ` on camera ${options.camera}` : '';
  const resolve = (name: string, where: string): CandidateVideo | undefined => {
    const named = byName.get(name.toLowerCase()) ?? [];
    const ofModel = named.filter((v) => v.model === options.model);
    if (ofModel.length === 1) return ofModel[0];
    if (ofModel.length > 1) {
      const which = ofModel.map((v) => `${v.id} (${v.sourceUri}${v.camera ? `, camera ${v.camera}` : ''})`);
      problems.push(
        `${where}: "${name}" matches ${ofModel.length} videos: ${which.join(', ')}; ` +
          (options.camera ? 'rename one of the files' : 'name the camera (--camera)'),
      );
    } else if (named.length) {
      const models = [...new Set(named.map((v) => v.model))].join(', ');
      problems.push(`${where}: "${name}" was embedded with ${models}, not with ${options.model}`);
    } else {
      problems.push(`${where}: no video named "${name}"${on}`);
    }
    return undefined;
  };

  const planned = new Map<string, Planned>();
  const plan = (video: CandidateVideo, name: string, where: string): Planned => {
    let entry = planned.get(video.id);
    if (!entry) {
      entry = { video, name, where, label: null, className: undefined, intervals: [], reviews: [] };
      planned.set(video.id, entry);
    }
    return entry;
  };
  for (const row of options.labels ?? []) {
    const video = resolve(row.video, row.where);
    if (!video) continue;
    const entry = plan(video, row.video, row.where);
    if (entry.label !== null) {
      problems.push(`${row.where}: "${row.video}" is the same video as ${entry.where} ("${entry.name}")`);
      continue;
    }
    entry.label = row.label;
    entry.className = row.className;
  }
  for (const row of options.frameLabels ?? []) {
    const video = resolve(row.video, row.where);
    if (!video) continue;
    plan(video, row.video, row.where).intervals.push(row);
  }
  if (options.useReviews) {
    const spans = await (sources.reviews ?? { spans: async () => [] }).spans({});
    const ofModel = new Map(candidates.filter((v) => v.model === options.model).map((v) => [v.id, v]));
    for (const span of spans) {
      const video = ofModel.get(span.videoId);
      if (!video) continue;
      plan(video, basename(video.sourceUri), `reviews of video ${video.id}`).reviews.push(span);
    }
  }

  // Labels that contradict each other.
  for (const entry of planned.values()) {
    const firstInterval = entry.intervals[0];
    if (entry.label === 0 && firstInterval) {
      problems.push(
        `${entry.where}: "${entry.name}" is labelled normal, but ${firstInterval.where} marks ` +
          `${seconds(firstInterval.startMs)}–${seconds(firstInterval.endMs)} s of it anomalous`,
      );
    }
    const confirmed = entry.reviews.find((r) => r.verdict === 'true');
    if (entry.label === 0 && confirmed) {
      problems.push(
        `${entry.where}: "${entry.name}" is labelled normal, but an operator confirmed its event at ` +
          `${seconds(confirmed.startMs)}–${seconds(confirmed.endMs)} s (${confirmed.label})`,
      );
    }
    if (entry.label === null && (entry.intervals.length || confirmed)) entry.label = 1;
  }

  // Videos whose embeddings are gone, or were never made.
  const counts = await sources.repository.frameCounts([...planned.keys()], options.model);
  for (const entry of planned.values()) {
    const { video } = entry;
    const named = `${entry.where}: video "${entry.name}" (${video.id})`;
    if (video.embeddingsRemovedAt) {
      problems.push(
        `${named} has no frame embeddings any more: retention removed them on ${video.embeddingsRemovedAt.toISOString()}`,
      );
    } else if (!counts.get(video.id)) {
      problems.push(`${named} has no frame embeddings of ${options.model} (status ${video.status})`);
    } else if (!pipelineConfigSchema.safeParse(video.pipelineConfig).success) {
      problems.push(`${named}: its recorded pipeline config is invalid`);
    }
  }
  if (problems.length) throw new TrainingDataError(problems);

  // Classes: Normal first, then every class a label names, sorted.
  const named = new Set<string>();
  for (const entry of planned.values()) {
    if (entry.className) named.add(entry.className);
    for (const interval of entry.intervals) if (interval.className) named.add(interval.className);
    for (const review of entry.reviews) if (review.verdict === 'true') named.add(review.label);
  }
  for (const name of named) {
    if (name.toLowerCase() === NORMAL_CLASS.toLowerCase())
      throw new TrainingDataError([`"${name}" names the normal class: anomalous labels need an anomaly class`]);
  }
  const namedClasses = named.size > 0;
  const classes = [NORMAL_CLASS, ...(namedClasses ? [...named].sort() : [GENERIC_ANOMALY_CLASS])];
  const classIndex = (name: string | undefined) => (name === undefined ? -1 : classes.indexOf(name));

  const entries = [...planned.values()];
  const videos: TrainingVideo[] = [];
  let embeddingSize = options.embeddingSize;
  for (const [n, entry] of entries.entries()) {
    const { video } = entry;
    const frames = await sources.frameEmbeddings.loadVectors(video.id, options.model);
    const size = frames[0]?.vector.length ?? 0;
    embeddingSize ??= size;
    const wrong = frames.find((f) => f.vector.length !== embeddingSize);
    if (wrong) {
      throw new TrainingDataError([
        `${entry.where}: video "${entry.name}" (${video.id}) has ${wrong.vector.length}-d frame embeddings, ` +
          `the others ${embeddingSize}-d`,
      ]);
    }
    const clips = cutTimedClips(frames, pipelineConfigSchema.parse(video.pipelineConfig));
    const features = new Float32Array(clips.length * (embeddingSize as number));
    clips.forEach((clip, c) => {
      const feature = meanAggregator({ ...clip, frames: clip.frames.map((f) => f.vector) }, NO_SPACE);
      features.set(feature, c * (embeddingSize as number));
    });

    const annotated = entry.intervals.length > 0;
    const confirmed = entry.reviews.filter((r) => r.verdict === 'true');
    const rejected = entry.reviews.filter((r) => r.verdict === 'false');
    let clipLabels: Int8Array | undefined;
    let clipClasses: Int16Array | undefined;
    if (annotated || entry.reviews.length) {
      clipLabels = new Int8Array(clips.length).fill(-1);
      clipClasses = new Int16Array(clips.length).fill(-1);
      const labels = clipLabels;
      const classesOf = clipClasses;
      const anomalyClass = (name: string | undefined) =>
        classIndex(name) >= 0 ? classIndex(name) : namedClasses ? -1 : 1;
      clips.forEach((clip, c) => {
        if (annotated) {
          const { share, className } = coverage(clip, entry.intervals);
          // A clip mostly inside an interval is anomalous, one wholly outside normal; one just touching it, unknown.
          if (share >= 0.5) {
            labels[c] = 1;
            classesOf[c] = anomalyClass(className ?? entry.className);
          } else if (share === 0) labels[c] = 0;
        }
        const yes = coverage(
          clip,
          confirmed.map((r) => ({ ...r, className: r.label })),
        );
        if (yes.share >= 0.5) {
          labels[c] = 1;
          classesOf[c] = anomalyClass(yes.className);
        } else if (
          labels[c] !== 1 &&
          coverage(
            clip,
            rejected.map((r) => ({ ...r, className: undefined })),
          ).share >= 0.5
        ) {
          labels[c] = 0;
        }
      });
    }
    videos.push({
      id: video.id,
      name: entry.name,
      clips: clips.length,
      features,
      label: entry.label,
      classIndex: entry.label === 1 ? (namedClasses ? classIndex(entry.className) : 1) : -1,
      clipLabels,
      clipClasses,
      annotated,
    });
    options.onVideo?.(n + 1, entries.length, entry.name);
  }
  return { model: options.model, embeddingSize: embeddingSize ?? 0, classes, namedClasses, videos };
}
