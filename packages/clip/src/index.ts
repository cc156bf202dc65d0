export {
  FoldError,
  type FoldOptions,
  type FoldPlan,
  foldedPathOf,
  foldModelFile,
  foldPreprocessing,
  type OnnxHeader,
  onnxHeader,
  planFold,
  preprocessingMatches,
  readOnnxHeader,
  readPreprocessing,
  sampleSha256,
} from './fold-preprocessing.js';
export { type BatcherStats, ImageBatcher, type ImageBatcherOptions } from './image-batcher.js';
export { imageFileToRgb } from './image-file.js';
export {
  type ImageIo,
  imageIo,
  imageTensor,
  type PixelFormat,
  pixelFormat,
  type TextIo,
  textIo,
} from './io-adapter.js';
export {
  HEAD_NAME,
  HEADS_FOLDER,
  headFile,
  headNameProblem,
  LEARNED_HEAD_FORMAT,
  LearnedHead,
  type LearnedHeadInfo,
  type LearnedHeadOutput,
  onnxMetadata,
} from './learned-head.js';
export {
  CLIP_INPUT_SIZE,
  CLIP_MEAN,
  CLIP_STD,
  getModelSpec,
  InvalidModelSpecError,
  LOCAL_SPEC_FILE,
  type LocalModel,
  listLocalModels,
  loadManifest,
  type ModelFile,
  type ModelManifest,
  type ModelSpec,
  manifestSchema,
  modelSpecSchema,
  readLocalModelSpec,
  resolveModelSpec,
  UnknownModelError,
} from './manifest.js';
export {
  ADDED_LAYOUT,
  ADDED_MODEL_NAME,
  type AddedFile,
  type AddedModel,
  AddModelError,
  type AddModelOptions,
  addModel,
} from './model-add.js';
export {
  describeFileCheck,
  type FetchedFile,
  type FetchModelOptions,
  type FetchProgress,
  type FileCheck,
  type FileCheckStatus,
  fetchModel,
  type InstalledFile,
  type InstallState,
  ModelFetchError,
  ModelUnreachableError,
  modelInstallState,
  networkErrorReason,
  unreachableMessage,
  type VerifyProgress,
  verifyModel,
} from './model-fetch.js';
export {
  addCommand,
  installHint,
  ModelCapabilityError,
  ModelFileSizeError,
  ModelNotInstalledError,
  type ModelPaths,
  type ModelRole,
  modelFiles,
  repairHint,
  resolveModelPaths,
} from './model-files.js';
export {
  compareFolded,
  describeFold,
  type EnsureFoldedOptions,
  ensureFolded,
  FOLD_TOLERANCE,
  type FoldOutcome,
  type FoldStatus,
  foldCommand,
  foldInstalledModel,
  type ImageModelChoice,
  type Preprocessing,
  selectImageModel,
  unfoldedNotice,
} from './model-fold.js';
export { rgbToNchw } from './preprocess.js';
export {
  createSession,
  cudaProviderInstalled,
  type ExecutionProvider,
  type GraphOptimization,
  type LoadedSession,
  type SessionOptions,
} from './session.js';
export { TemporalHead } from './temporal-head.js';
export { ClipTextEncoder } from './text-encoder.js';
export { ClipTokenizer, type TokenizedBatch } from './tokenizer.js';
export { l2Normalize, normalizedRows } from './vector.js';
