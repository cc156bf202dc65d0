export {
  type BinaryOverrides,
  type BinarySource,
  type FfmpegBinaries,
  ffmpegVersions,
  isStaticElf,
  resolveFfmpegBinaries,
  STATIC_GLIBC_WORKAROUND,
} from './binaries.js';
export { DecodeError, InvalidVideoError } from './errors.js';
export {
  browserPlayable,
  type ClipSpan,
  clipSpan,
  EVENT_CLIP_MAX_WIDTH,
  EVENT_CLIP_POST_ROLL_MS,
  EVENT_CLIP_PRE_ROLL_MS,
  type EventClip,
  type EventClipOptions,
  makeEventClip,
} from './event-clip.js';
export { extractFrameAt } from './frame-at.js';
export {
  type DecodedFrame,
  type DecodeOptions,
  type DecodeResume,
  decodeFrames,
  type FrameSelection,
  frameFilter,
  keyframeFilter,
} from './frame-decoder.js';
export { type HwaccelSetting, type ResolvedHwaccel, resolveHwaccel } from './hwaccel.js';
export { MOTION_GRID, MotionGate, type MotionGateSettings } from './motion-gate.js';
export { DIMENSION_LIMITS, probeVideo, type VideoProbeResult } from './probe.js';
export {
  type DisplayRotation,
  type SynthesizeOptions,
  setDisplayRotation,
  synthesizeAudioOnly,
  synthesizeVideo,
  truncateCopy,
  writeTextAsVideo,
} from './synthesize.js';
export { isVideoFileName, VIDEO_EXTENSIONS } from './video-extensions.js';
