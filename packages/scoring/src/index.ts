export { type Aggregator, attentionAggregator, meanAggregator } from './aggregators.js';
export { buildClassSpace, type ClassScore, type ClassSpace, scoreFeature } from './class-scores.js';
export { type Clip, type ClipTiming, cutClips, cutTimedClips, frameDurationMs, type TimedClip } from './clips.js';
export { DotProducts, simdAvailable } from './dot-kernel.js';
export {
  type AnomalyEventSpan,
  type EventOptions,
  extractEvents,
  frameScores,
  refineEvent,
  smoothScores,
  type TimedScore,
} from './events.js';
export {
  buildNormalMemory,
  type Calibration,
  type CalibrationOptions,
  type CalibrationVideo,
  CORESET_CANDIDATES_PER_FEATURE,
  calibrateThreshold,
  farthestPointCoreset,
  fuseScores,
  knnDistances,
  type MemoryFeature,
  MIN_DISTANCE_SCALE,
  NORMAL_MEMORY_MAX,
  NORMALITY_K,
  NORMALITY_Z_MID,
  type NormalMemory,
  type NormalMemoryOptions,
  normalityScoreOfZ,
  normalityScores,
  overlapsAny,
  poolNormalityFeature,
  STANDARDISATION_SAMPLE,
} from './normality.js';
export { cachedPromptEmbeddings, type PromptEmbeddingStore } from './prompt-cache.js';
export { expandPrompts, type PromptList, type PromptSet, promptSetSchema, UCF_CRIME_PROMPTS } from './prompts.js';
export { dot, normalize, softmax, type Vector, weightedMean } from './vectors.js';
