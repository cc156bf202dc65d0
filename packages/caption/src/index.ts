export { type CaptionImage, type ImagePreprocessing, imagesToPixelValues, imageToRgb } from './caption-image.js';
export { CaptionTokenizer } from './caption-tokenizer.js';
export {
  CAPTIONER_NAME_PATTERN,
  type CaptionerFile,
  type CaptionerManifest,
  CaptionerNotInstalledError,
  type CaptionerPaths,
  type CaptionerRole,
  type CaptionerSpec,
  captionerFileSchema,
  captionerFiles,
  captionerInstallHint,
  captionerManifestSchema,
  captionerRepairHint,
  captionerSpecSchema,
  type GenerationConfig,
  generationConfigSchema,
  getCaptionerSpec,
  loadCaptionerManifest,
  resolveCaptionerPaths,
  UnknownCaptionerError,
} from './captioner-manifest.js';
export {
  DECODER_INPUTS,
  type DecoderIo,
  type DecoderLayout,
  DecoderLayoutError,
  describeDecoder,
  emptyPast,
  type PastEntry,
  type SessionSignature,
  signatureOf,
  type TensorInfo,
} from './decoder-io.js';
export { DecoderRunner, type DecoderSessions, gatherRows } from './decoder-runner.js';
export {
  argmax,
  beamSearch,
  type Generated,
  generate,
  greedySearch,
  type LogitsSource,
  type SearchOptions,
  topK,
} from './generation.js';
export { type Caption, type CaptionerLoadOptions, type CaptionOptions, ImageCaptioner } from './image-captioner.js';
