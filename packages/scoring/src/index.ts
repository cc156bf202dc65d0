export { type Aggregator, attentionAggregator, meanAggregator } from './aggregators.js';
export { buildClassSpace, type ClassScore, type ClassSpace, scoreFeature } from './class-scores.js';
export { type Clip, cutClips } from './clips.js';
export {
  type AnomalyEventSpan,
  type EventOptions,
  extractEvents,
  frameScores,
  refineEvent,
  smoothScores,
  type TimedScore,
} from './events.js';
export { expandPrompts, type PromptList, type PromptSet, promptSetSchema, UCF_CRIME_PROMPTS } from './prompts.js';
export { dot, normalize, softmax, type Vector, weightedMean } from './vectors.js';
