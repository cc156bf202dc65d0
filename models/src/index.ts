export { BUILT_MODELS, type BuiltFile, type BuiltModelName, buildModel } from './build-models.js';
export { GraphBuilder, SeededRandom } from './onnx-graph.js';
export {
  PREPROCESSING_KEY,
  type PreprocessingMetadata,
  parsePreprocessing,
  preprocessingEntry,
  UINT8_INPUT,
  uint8Prelude,
} from './preprocessing.js';
export { buildTemporalHead } from './temporal-head.js';
export {
  buildTinyImageModel,
  buildTinyTextModel,
  CLIP_MEAN,
  CLIP_STD,
  type ImageInputOptions,
  TINY_EMBEDDING_SIZE,
  tinyTokenizerConfig,
  tinyTokenizerJson,
} from './tiny-model.js';
export { buildVitImageModel, VIT_B32, type VitConfig } from './vit-b32-model.js';
