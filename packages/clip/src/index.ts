export { type BatcherStats, ImageBatcher, type ImageBatcherOptions } from './image-batcher.js';
export { imageFileToRgb } from './image-file.js';
export { type ImageIo, imageIo, type TextIo, textIo } from './io-adapter.js';
export {
  getModelSpec,
  loadManifest,
  type ModelFile,
  type ModelManifest,
  type ModelSpec,
  manifestSchema,
  UnknownModelError,
} from './manifest.js';
export {
  type FetchedFile,
  type FetchModelOptions,
  type FetchProgress,
  fetchModel,
  type InstallState,
  ModelFetchError,
  modelInstallState,
} from './model-fetch.js';
export {
  installHint,
  ModelCapabilityError,
  ModelNotInstalledError,
  type ModelPaths,
  type ModelRole,
  resolveModelPaths,
} from './model-files.js';
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
export { dot, l2Normalize, normalizedRows } from './vector.js';
