/** The normal class: index 0 of every head's classes. */
export const NORMAL_CLASS = 'Normal';
/** The one anomaly class of a head trained without class names. */
export const GENERIC_ANOMALY_CLASS = 'Anomaly';

/** Clip label values: unknown, normal, anomalous. */
export const UNKNOWN = -1;

/** One video of a training set: its clip features in order, and what is known about it. */
export interface TrainingVideo {
  id: string;
  /** How the labels named it (file base name), for messages. */
  name: string;
  clips: number;
  /** clips × D, row-major: per clip the L2-normalised mean of its distinct frames' embeddings. */
  features: Float32Array;
  /** Video-level label: 1 anomalous, 0 normal, null unknown (only clip labels, e.g. reviews). */
  label: 0 | 1 | null;
  /** Class index of an anomalous video (into the set's classes), -1 for none. */
  classIndex: number;
  /** Per clip: 1 anomalous, 0 normal, -1 unknown (frame annotations, reviews); undefined when none is known. */
  clipLabels: Int8Array | undefined;
  /** Per clip: class index of a labelled clip, -1 for none. */
  clipClasses: Int16Array | undefined;
  /** Every clip is labelled from frame annotations (the video is annotated in full). */
  annotated: boolean;
}

export interface TrainingSet {
  /** The embedding model whose frame vectors the features come from. */
  model: string;
  embeddingSize: number;
  /** Class names, NORMAL_CLASS first. */
  classes: string[];
  /** False when no label named a class: classes are then [Normal, Anomaly]. */
  namedClasses: boolean;
  videos: TrainingVideo[];
}

export interface TrainingSetSummary {
  videos: number;
  anomalousVideos: number;
  normalVideos: number;
  /** Videos with clip labels only (reviews without a video label). */
  clipLabelledVideos: number;
  annotatedVideos: number;
  clips: number;
  labelledClips: { anomalous: number; normal: number };
  classes: Record<string, number>;
}

/** Bad training input: every problem found, each naming its file line or video. */
export class TrainingDataError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(
      problems.length === 1 ? (problems[0] as string) : `${problems.length} problems:\n  ${shown.join('\n  ')}${more}`,
    );
    this.name = 'TrainingDataError';
  }
}

/** Whether a video shows anomalous evidence (its label, or a clip labelled anomalous). */
export function isPositive(video: TrainingVideo): boolean {
  return video.label === 1 || (video.clipLabels?.includes(1) ?? false);
}

export function summarise(set: TrainingSet): TrainingSetSummary {
  const classes: Record<string, number> = {};
  let anomalous = 0;
  let normal = 0;
  for (const video of set.videos) {
    if (video.clipLabels)
      for (const l of video.clipLabels) {
        if (l === 1) anomalous++;
        else if (l === 0) normal++;
      }
    const name = video.classIndex >= 0 ? set.classes[video.classIndex] : undefined;
    if (name) classes[name] = (classes[name] ?? 0) + 1;
  }
  return {
    videos: set.videos.length,
    anomalousVideos: set.videos.filter((v) => v.label === 1).length,
    normalVideos: set.videos.filter((v) => v.label === 0).length,
    clipLabelledVideos: set.videos.filter((v) => v.label === null).length,
    annotatedVideos: set.videos.filter((v) => v.annotated).length,
    clips: set.videos.reduce((sum, v) => sum + v.clips, 0),
    labelledClips: { anomalous, normal },
    classes,
  };
}

/**
 * Refuses a set that cannot train a head: empty, or with examples of one
 * kind only (a head learns to tell anomalous from normal, so it needs both).
 */
export function checkTrainable(set: TrainingSet): void {
  if (set.videos.length === 0)
    throw new TrainingDataError(['the training set is empty: no labelled video has frame embeddings to learn from']);
  const summary = summarise(set);
  const positive = summary.anomalousVideos > 0 || summary.labelledClips.anomalous > 0;
  const negative = summary.normalVideos > 0 || summary.labelledClips.normal > 0;
  if (!positive || !negative) {
    const missing = positive ? 'normal' : 'anomalous';
    throw new TrainingDataError([
      `the training set has one class only: ${summary.anomalousVideos} anomalous and ${summary.normalVideos} normal videos` +
        `, ${summary.labelledClips.anomalous} anomalous and ${summary.labelledClips.normal} normal labelled clips; ` +
        `a head learns to tell the two apart: add ${missing} examples`,
    ]);
  }
  for (const video of set.videos) {
    if (video.features.length !== video.clips * set.embeddingSize)
      throw new Error(`video ${video.name}: ${video.features.length} feature values for ${video.clips} clips`);
  }
}
