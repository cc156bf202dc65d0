/**
 * A minimal DHAV (Dahua .dav) muxer for test fixtures: ffmpeg can read DHAV
 * (libavformat/dhav.c) but has no muxer for it, and recordings from Dahua
 * NVRs are a format vad accepts.
 *
 * Each video frame is one DHAV chunk, laid out as ffmpeg's demuxer reads it
 * (all integers little-endian):
 *
 *   0  "DHAV"
 *   4  type: 0xfd a key frame (its extension fields carry size, codec and
 *      frame rate; the demuxer makes the video stream from the first one),
 *      0xfc any other video frame
 *   5  subtype, 6 channel, 7 frame sub-number: 0
 *   8  u32 frame number, counting from 0
 *  12  u32 chunk length: header, extension, payload and the 8-byte trailer
 *  16  u32 wall-clock date to the second, packed: seconds (6 bits), minutes (6),
 *      hours (5), day (5), month (4), year − 2000 (6)
 *  20  u16 millisecond clock, wrapping at 2^16
 *  22  u8 extension length, 23 u8 checksum (the demuxer skips it; here the
 *      sum of bytes 0–22)
 *  24  extension fields; payload: one access unit, Annex B; trailer: "dhav"
 *      and the u32 chunk length again (readers walk files backwards with it)
 *
 * The demuxer gives a frame the date's second, in ms, when the second
 * changes, and otherwise the previous frame's pts plus the change of the
 * millisecond clock: so frame k carries the date and clock of k / fps s
 * after `start`, and its pts is exactly that. The duration it reports is the
 * last frame's date minus the first's, whole seconds.
 */

export type DhavCodec = 'h264' | 'hevc';

export interface DhavOptions {
  width: number;
  height: number;
  /** Whole frames per second (the header has one byte for it). */
  fps: number;
  codec: DhavCodec;
  /** The recording's wall-clock start, UTC, in whole seconds; default 2024-01-01 00:00:00. */
  start?: Date;
}

export interface AccessUnit {
  data: Buffer;
  key: boolean;
}

/** Dahua's codec numbers, as dhav.c maps them: 0x8 H.264 (0x2, 0x4 too), 0xc H.265. */
const CODEC_ID: Record<DhavCodec, number> = { h264: 0x08, hevc: 0x0c };

const HEADER_BYTES = 24;
const TRAILER_BYTES = 8;

interface Nal {
  /** Offset of its start code. */
  start: number;
  type: number;
  /** The first byte after the NAL header (0 when there is none). */
  firstPayloadByte: number;
}

/** NAL units of an Annex B stream, in order, with their start offsets (the start code included). */
function nalUnits(stream: Buffer, codec: DhavCodec): Nal[] {
  const nals: Nal[] = [];
  const headerBytes = codec === 'h264' ? 1 : 2;
  let i = 0;
  while (i + 3 <= stream.length) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      const start = i > 0 && stream[i - 1] === 0 ? i - 1 : i;
      const header = stream[i + 3] ?? 0;
      const type = codec === 'h264' ? header & 0x1f : (header >> 1) & 0x3f;
      nals.push({ start, type, firstPayloadByte: stream[i + 3 + headerBytes] ?? 0 });
      i += 3;
    } else i += 1;
  }
  return nals;
}

/** Whether the NAL is a coded slice, and whether it is a key (IDR/IRAP) one. */
function sliceKind(nal: Nal, codec: DhavCodec): { slice: boolean; key: boolean } {
  if (codec === 'h264') return { slice: nal.type >= 1 && nal.type <= 5, key: nal.type === 5 };
  return { slice: nal.type <= 31, key: nal.type >= 16 && nal.type <= 23 };
}

/** NAL types that, after a picture's slices, begin the next access unit (AUD, parameter sets, SEI). */
function beginsAccessUnit(nal: Nal, codec: DhavCodec): boolean {
  if (codec === 'h264') return nal.type === 9 || nal.type === 7 || nal.type === 8 || nal.type === 6;
  return nal.type === 35 || nal.type === 32 || nal.type === 33 || nal.type === 34 || nal.type === 39;
}

/**
 * Splits an Annex B elementary stream (ffmpeg `-f h264` / `-f hevc` output)
 * into access units, one per picture: a new one begins at an access unit
 * delimiter, a parameter set or an SEI that follows a picture's slices, or at
 * a slice that starts a picture (first_mb_in_slice 0 / first_slice_segment_in_pic_flag)
 * when the current one already has one.
 */
export function splitAccessUnits(stream: Buffer, codec: DhavCodec): AccessUnit[] {
  const units: AccessUnit[] = [];
  let unitStart = -1;
  let hasSlice = false;
  let key = false;
  const close = (end: number) => {
    if (unitStart >= 0 && hasSlice) units.push({ data: stream.subarray(unitStart, end), key });
  };
  for (const nal of nalUnits(stream, codec)) {
    const kind = sliceKind(nal, codec);
    // Both first_mb_in_slice = 0 (ue(v) "1") and first_slice_segment_in_pic_flag = 1 set the top bit.
    const firstSliceOfPicture = kind.slice && (nal.firstPayloadByte & 0x80) !== 0;
    if (unitStart < 0) unitStart = nal.start;
    else if (hasSlice && (beginsAccessUnit(nal, codec) || firstSliceOfPicture)) {
      close(nal.start);
      unitStart = nal.start;
      hasSlice = false;
      key = false;
    }
    if (kind.slice) {
      hasSlice = true;
      key ||= kind.key;
    }
  }
  close(stream.length);
  return units;
}

/** The DHAV date field for a time (UTC, whole seconds). */
export function dhavDate(time: Date): number {
  const year = time.getUTCFullYear() - 2000;
  if (year < 0 || year > 63) throw new RangeError(`DHAV dates run from 2000 to 2063, not ${time.getUTCFullYear()}`);
  return (
    ((year << 26) |
      ((time.getUTCMonth() + 1) << 22) |
      (time.getUTCDate() << 17) |
      (time.getUTCHours() << 12) |
      (time.getUTCMinutes() << 6) |
      time.getUTCSeconds()) >>>
    0
  );
}

function keyFrameExtension(options: DhavOptions): Buffer {
  const ext = Buffer.alloc(12);
  // 0x82: exact picture size (0x80 would give it in units of 8 pixels).
  ext.writeUInt8(0x82, 0);
  ext.writeUInt16LE(options.width, 4);
  ext.writeUInt16LE(options.height, 6);
  // 0x81: video codec and frame rate.
  ext.writeUInt8(0x81, 8);
  ext.writeUInt8(CODEC_ID[options.codec], 10);
  ext.writeUInt8(options.fps, 11);
  return ext;
}

/** One DHAV chunk holding `unit`, the `index`th frame. */
function chunk(unit: AccessUnit, index: number, options: DhavOptions, startMs: number): Buffer {
  const ext = unit.key ? keyFrameExtension(options) : Buffer.alloc(0);
  const length = HEADER_BYTES + ext.length + unit.data.length + TRAILER_BYTES;
  const header = Buffer.alloc(HEADER_BYTES);
  const offsetMs = Math.round((index * 1000) / options.fps);
  header.write('DHAV', 0, 'latin1');
  header.writeUInt8(unit.key ? 0xfd : 0xfc, 4);
  header.writeUInt32LE(index, 8);
  header.writeUInt32LE(length, 12);
  header.writeUInt32LE(dhavDate(new Date(startMs + offsetMs)), 16);
  header.writeUInt16LE(offsetMs & 0xffff, 20);
  header.writeUInt8(ext.length, 22);
  let sum = 0;
  for (let i = 0; i < 23; i += 1) sum += header[i] ?? 0;
  header.writeUInt8(sum & 0xff, 23);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.write('dhav', 0, 'latin1');
  trailer.writeUInt32LE(length, 4);
  return Buffer.concat([header, ext, unit.data, trailer]);
}

/**
 * A DHAV file's bytes: the access units in order, one chunk each, the first
 * of which must be a key frame (the demuxer drops frames before the first
 * 0xfd chunk, which names the codec).
 */
export function muxDhav(units: readonly AccessUnit[], options: DhavOptions): Buffer {
  if (!Number.isInteger(options.fps) || options.fps < 1 || options.fps > 255)
    throw new RangeError(`DHAV frame rates are whole numbers from 1 to 255, not ${options.fps}`);
  if (units.length > 0 && !units[0]?.key) throw new Error('a DHAV recording starts with a key frame');
  const startMs = Math.floor((options.start ?? new Date(Date.UTC(2024, 0, 1))).getTime() / 1000) * 1000;
  return Buffer.concat(units.map((unit, index) => chunk(unit, index, options, startMs)));
}
