/**
 * A segment file holds consecutive sampled frames of one video:
 *
 *   8 bytes  magic "VADSEG01"
 *   4 bytes  header length N (uint32 LE)
 *   N bytes  header, JSON (SegmentHeader)
 *   …        frames: encoded frames × height × width × 3 bytes, RGB uint8, HWC, frame after frame
 *
 * Frames that motion sampling found unchanged carry `sameAs` in the header
 * and no pixels: only the frames to encode are stored.
 */
export const SEGMENT_MAGIC = Buffer.from('VADSEG01', 'ascii');

export interface SegmentFrameInfo {
  /** Index of the frame among the video's sampled frames. */
  index: number;
  ptsMs: number;
  /** Set when the frame is not encoded: the index of the earlier frame of this segment whose embedding it reuses. */
  sameAs?: number;
}

/** The frames of a header that have pixels in the file (all but those with `sameAs`). */
export function encodedFrames(header: Pick<SegmentHeader, 'frames'>): SegmentFrameInfo[] {
  return header.frames.filter((frame) => frame.sameAs === undefined);
}

export interface SegmentHeader {
  videoId: string;
  segmentIndex: number;
  width: number;
  height: number;
  frames: SegmentFrameInfo[];
}

export interface Segment {
  header: SegmentHeader;
  /** The encoded frames' pixels, contiguous: encodedFrames(header).length × height × width × 3 bytes. */
  pixels: Buffer;
}

export function encodeSegmentPreamble(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([SEGMENT_MAGIC, length, json]);
}

export function decodeSegment(data: Buffer, source: string): Segment {
  if (data.length < 12 || !data.subarray(0, 8).equals(SEGMENT_MAGIC)) {
    throw new Error(`${source} is not a segment file`);
  }
  const headerLength = data.readUInt32LE(8);
  if (12 + headerLength > data.length) throw new Error(`${source} is truncated inside its header`);
  const header = JSON.parse(data.subarray(12, 12 + headerLength).toString('utf8')) as SegmentHeader;
  const pixels = data.subarray(12 + headerLength);
  const expected = encodedFrames(header).length * header.width * header.height * 3;
  if (pixels.length !== expected) {
    throw new Error(`${source} is truncated: ${pixels.length} of ${expected} pixel bytes`);
  }
  return { header, pixels };
}
