export { EventClipStore } from './event-clip-store.js';
export { sha256File } from './hash-file.js';
export {
  decodeSegment,
  encodedFrames,
  encodeSegmentPreamble,
  SEGMENT_MAGIC,
  type Segment,
  type SegmentFrameInfo,
  type SegmentHeader,
} from './segment-format.js';
export { isStorageFull, SegmentStore, type SegmentStoreOptions, type SegmentWriteFunction } from './segment-store.js';
export { ThumbnailStore } from './thumbnail-store.js';
