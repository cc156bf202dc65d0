import { type ClassSpace, scoreFeature } from './class-scores.js';
import type { Clip } from './clips.js';
import { normalize, softmax, type Vector, weightedMean } from './vectors.js';

/** Turns one clip's frame features into its sequence feature. */
export type Aggregator = (clip: Clip<Vector>, space: ClassSpace) => Vector;

/** The mean of the clip's distinct frames (padding repeats are left out, they would bias the mean). */
export const meanAggregator: Aggregator = (clip) => normalize(weightedMean(clip.frames.slice(0, clip.validFrames)));

/**
 * Attention pooling: each frame weighted by how abnormal it looks on its
 * own (softmax of temperature × its anomaly score), so a 2-second incident in
 * an 8-second clip dominates the clip's feature instead of being averaged
 * away by the normal frames around it.
 */
export function attentionAggregator(temperature = 10): Aggregator {
  return (clip, space) => {
    const frames = clip.frames.slice(0, clip.validFrames);
    const weights = softmax(frames.map((f) => temperature * scoreFeature(f, space).anomalyScore));
    return normalize(weightedMean(frames, weights));
  };
}
