import { SeededRandom } from '@vad/models';
import { GENERIC_ANOMALY_CLASS, NORMAL_CLASS, type TrainingSet, type TrainingVideo } from './training-set.js';

export interface SyntheticSetOptions {
  videos: number;
  /** Clips per video (each video gets this many, ± a quarter when `varyLength`). */
  clips: number;
  embeddingSize: number;
  /** Share of anomalous videos. Default 0.5. */
  anomalousShare?: number;
  /** Anomaly classes (named `Class1`…); 0 for unnamed anomalies. Default 2. */
  classes?: number;
  /** How far an anomalous clip moves toward its class's direction (relative to the scene). Default 0.6. */
  strength?: number;
  /** Give every video frame-level (clip) labels. Default false. */
  annotated?: boolean;
  varyLength?: boolean;
  seed?: number;
  /** Seeds the anomaly classes' directions: sets that share it share their kinds of anomaly. Default 1. */
  kindSeed?: number;
}

/**
 * A training set of random clip features laid out like footage: each video
 * a scene (a random unit vector) with per-clip noise and a slow drift; an
 * anomalous video has one interval (a tenth to a third of it) pushed toward
 * its class's direction. For tests and the training benchmark; no database.
 */
export function syntheticTrainingSet(options: SyntheticSetOptions): TrainingSet {
  const random = new SeededRandom(options.seed ?? 7);
  const D = options.embeddingSize;
  const classCount = options.classes ?? 2;
  const strength = options.strength ?? 0.6;
  const unit = (from = random) => {
    const v = from.normal(D, 1);
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < D; i++) v[i] = (v[i] as number) / norm;
    return v;
  };
  const kinds = new SeededRandom(options.kindSeed ?? 1);
  const directions = Array.from({ length: Math.max(1, classCount) }, () => unit(kinds));
  const classes = [
    NORMAL_CLASS,
    ...(classCount ? Array.from({ length: classCount }, (_, c) => `Class${c + 1}`) : [GENERIC_ANOMALY_CLASS]),
  ];
  const videos: TrainingVideo[] = [];
  for (let v = 0; v < options.videos; v++) {
    const anomalous = random.uniform() < (options.anomalousShare ?? 0.5);
    const clips = options.varyLength
      ? Math.max(1, Math.round(options.clips * (0.75 + 0.5 * random.uniform())))
      : options.clips;
    const scene = unit();
    const drift = unit();
    const cls = anomalous ? Math.floor(random.uniform() * Math.max(1, classCount)) : -1;
    const length = Math.max(1, Math.round(clips * (0.1 + 0.23 * random.uniform())));
    const from = Math.floor(random.uniform() * (clips - length + 1));
    const features = new Float32Array(clips * D);
    const clipLabels = new Int8Array(clips);
    const noise = random.normal(clips * D, 0.6 / Math.sqrt(D));
    for (let t = 0; t < clips; t++) {
      const inside = anomalous && t >= from && t < from + length;
      clipLabels[t] = inside ? 1 : 0;
      const phase = Math.sin((2 * Math.PI * t) / Math.max(8, clips));
      let norm = 0;
      for (let i = 0; i < D; i++) {
        let x = (scene[i] as number) + 0.3 * phase * (drift[i] as number) + (noise[t * D + i] as number);
        if (inside) x += strength * ((directions[cls] as Float32Array)[i] as number);
        features[t * D + i] = x;
        norm += x * x;
      }
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < D; i++) features[t * D + i] = (features[t * D + i] as number) / norm;
    }
    videos.push({
      id: `00000000-0000-4000-8000-${String(v).padStart(12, '0')}`,
      name: `synthetic-${v}`,
      clips,
      features,
      label: anomalous ? 1 : 0,
      classIndex: anomalous ? (classCount ? cls + 1 : 1) : -1,
      clipLabels: options.annotated ? clipLabels : undefined,
      clipClasses: options.annotated ? Int16Array.from(clipLabels, (l) => (l ? cls + 1 : -1)) : undefined,
      annotated: options.annotated ?? false,
    });
  }
  return { model: 'synthetic', embeddingSize: D, classes, namedClasses: classCount > 0, videos };
}

/** The ground truth of a synthetic set's clips (1 inside the anomalous interval), kept even when not given as labels. */
export function syntheticClipTruth(set: TrainingSet, options: SyntheticSetOptions): Int8Array[] {
  return syntheticTrainingSet({ ...options, annotated: true }).videos.map(
    (v, i) => v.clipLabels ?? new Int8Array(set.videos[i]?.clips ?? 0),
  );
}
