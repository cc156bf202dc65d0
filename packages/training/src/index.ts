export { headArtifacts } from './artifacts.js';
export { rocAuc } from './auc.js';
export { TRAINING_BACKENDS, type TrainingBackend, useBackend } from './backend.js';
export { type HeadCard, type HeadCardInput, installHead, type WrittenHead, writeHead } from './head-files.js';
export {
  clipRows,
  HeadModel,
  type HeadShape,
  type HeadWeights,
  initialWeights,
  predictVideos,
} from './head-model.js';
export {
  csvFields,
  type FrameLabel,
  parseFrameLabels,
  parseLabels,
  readFrameLabels,
  readLabels,
  type VideoLabel,
} from './labels.js';
export { exportHeadOnnx, type HeadMetadata } from './onnx-export.js';
export { type SyntheticSetOptions, syntheticClipTruth, syntheticTrainingSet } from './synthetic.js';
export {
  DEFAULT_TRAIN_OPTIONS,
  type EpochReport,
  evaluate,
  type MilLoss,
  type ResolvedTrainOptions,
  splitVideos,
  type TrainOptions,
  type TrainResult,
  topK,
  trainHead,
  type ValidationKind,
} from './train.js';
export {
  loadTrainingSet,
  namesVideo,
  type TrainingSetOptions,
  type TrainingSources,
} from './training-data.js';
export {
  type CandidateVideo,
  type ReviewSource,
  TrainingRepository,
} from './training-repository.js';
export {
  checkTrainable,
  GENERIC_ANOMALY_CLASS,
  isPositive,
  NORMAL_CLASS,
  summarise,
  TrainingDataError,
  type TrainingSet,
  type TrainingSetSummary,
  type TrainingVideo,
} from './training-set.js';
