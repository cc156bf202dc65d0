export {
  BENCH_CAPTIONER,
  BENCH_CAPTIONER_FILES,
  BENCH_CAPTIONER_MEAN,
  BENCH_CAPTIONER_STD,
  BENCH_END_TOKEN,
  type BenchCaptionerConfig,
  benchCaptionerTokenizerConfig,
  benchCaptionerTokenizerJson,
  buildBenchCaptionEncoder,
  GPT2_SMALL,
  type Gpt2Config,
  writeBenchCaptioner,
} from './bench-captioner.js';
export { BUILT_MODELS, type BuiltFile, type BuiltModelName, buildModel } from './build-models.js';
export { MANIFEST_PATH, readManifestJson } from './manifest-file.js';
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
  buildTinyCaptionDecoder,
  buildTinyCaptionEncoder,
  TINY_CAPTIONER_CACHE,
  TINY_CAPTIONER_GENERATION,
  TINY_CAPTIONER_INPUT_SIZE,
  TINY_CAPTIONER_LAYOUTS,
  TINY_CAPTIONER_MEAN,
  TINY_CAPTIONER_SPECIAL,
  TINY_CAPTIONER_STD,
  TINY_CAPTIONS,
  type TinyCaptionClass,
  type TinyDecoderKind,
  tinyCaptionerFiles,
  tinyCaptionerTokenizerConfig,
  tinyCaptionerTokenizerJson,
  tinyCaptionerVocabulary,
} from './tiny-captioner.js';
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
export {
  buildVitImageModel,
  VIT_B32,
  type VitBlocks,
  type VitConfig,
  vitBlocks,
  vitTrunk,
} from './vit-b32-model.js';
