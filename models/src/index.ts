export { BUILT_MODELS, type BuiltFile, type BuiltModelName, buildModel } from './build-models.js';
export { GraphBuilder, SeededRandom } from './onnx-graph.js';
export { buildTemporalHead } from './temporal-head.js';
export {
  buildTinyImageModel,
  buildTinyTextModel,
  CLIP_MEAN,
  CLIP_STD,
  TINY_EMBEDDING_SIZE,
  tinyTokenizerConfig,
  tinyTokenizerJson,
} from './tiny-model.js';
export { buildVitImageModel, VIT_B32, type VitConfig } from './vit-b32-model.js';
