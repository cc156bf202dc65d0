import { execFile } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { DecodeError } from './errors.js';

/**
 * Which frames the decoder gives: `grid`, one per slot of the sampling grid
 * (sampleFps); `keyframes`, only the video's keyframes (the decoder skips
 * every other frame: `-skip_frame nokey`), no two closer than 1/sampleFps,
 * each at its own presentation time.
 */
export type FrameSelection = 'grid' | 'keyframes';

export interface DecodeOptions {
  /** Frames per second of video to sample (with `keyframes`: at most this many per second). */
  sampleFps: number;
  /** Default `grid`. */
  select?: FrameSelection;
  /**
   * Decode on the GPU (`-hwaccel cuda`; frames are copied back for the filters). Only pass it after
   * `resolveHwaccel` found it working: an ffmpeg without it fails.
   */
  hwaccel?: 'cuda';
  /** Side of the square output: shortest side resized to it, then centre-cropped, as CLIP preprocesses. */
  size: number;
  signal?: AbortSignal;
  /** Called with each line ffmpeg writes to stderr that is not per-frame noise (warnings, errors). */
  onLog?: (line: string) => void;
  /**
   * Resume: the index of the first frame to yield. The frames from it on are
   * the very frames a decode from the start gives at those indexes (same
   * index, same ptsMs, same pixels); ffmpeg seeks to a keyframe before it
   * rather than decoding what comes before. Default 0.
   */
  startIndex?: number;
  /** Called once, before the first frame, when `startIndex` > 0: how the decode gets there. */
  onResume?: (resume: DecodeResume) => void;
}

/** How a resumed decode reached its first frame. */
export interface DecodeResume {
  startIndex: number;
  /** The input seek ffmpeg was given (`-ss`, in seconds); undefined when it decoded from the start. */
  seekS: number | undefined;
  /** Why it decoded from the start, when it did: the seek was not worth it or could not be trusted. */
  fromStart?: string;
}

export interface DecodedFrame {
  /** 0-based index among sampled frames. */
  index: number;
  /**
   * Presentation time from the decoder, in ms from the start of the recording
   * as a player shows it: ffmpeg shifts every stream by the container's start
   * time, so a file cut from a longer stream (MPEG-TS from an NVR starting at
   * 1000 s) still starts at 0. It is the frame's slot on the fps filter's grid
   * (showinfo's integer pts, n / sampleFps s), exact at any length.
   */
  ptsMs: number;
  /** size × size × 3 bytes, RGB, row-major (HWC). */
  rgb: Buffer;
}

/** The ffmpeg filter graph: sample, resize the shortest side, centre-crop, report each frame's pts. */
export function frameFilter(sampleFps: number, size: number): string {
  return [
    `fps=${sampleFps}`,
    `scale=${size}:${size}:force_original_aspect_ratio=increase:flags=bicubic`,
    `crop=${size}:${size}`,
    'showinfo',
  ].join(',');
}

/**
 * The graph for keyframe sampling: the decoder gives keyframes only; of those,
 * none closer than 1/sampleFps to the last one kept (all-intra footage would
 * otherwise give every frame). No fps filter: each frame keeps its own pts.
 */
export function keyframeFilter(sampleFps: number, size: number): string {
  const gap = (1 / sampleFps).toFixed(6);
  return [
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${gap})'`,
    ...frameFilter(1, size).split(',').slice(1),
  ].join(',');
}

/** The same graph for the video's first frame alone, at its own pts (no fps grid: its pts is in the stream's time base). */
function firstFrameFilter(size: number): string {
  return ['trim=end_frame=1', ...frameFilter(1, size).split(',').slice(1)].join(',');
}

const SHOWINFO_PTS = /Parsed_showinfo.*\bpts:\s*(-?\d+|NOPTS)\s+pts_time:\s*(\S+)/;
const SHOWINFO_TIME_BASE = /Parsed_showinfo.*config in time_base:\s*(\d+)\/(\d+)/;
const NOISE =
  /Parsed_showinfo|^\s*(frame=|size=|video:|Stream mapping|Press \[q\]|Output #|Input #|Metadata:|Duration:|Stream #|\s+\w+\s*:)/;

/** Waits for values that arrive from another stream, in order. */
class OrderedMailbox<T> {
  private readonly values: T[] = [];
  private waiter: ((value: T | undefined) => void) | undefined;
  private closed = false;

  push(value: T): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(value);
    } else this.values.push(value);
  }

  close(): void {
    this.closed = true;
    this.waiter?.(undefined);
    this.waiter = undefined;
  }

  next(): Promise<T | undefined> {
    if (this.values.length) return Promise.resolve(this.values.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

/** Yields exactly `frameBytes`-sized buffers from a byte stream; a short tail is an error. */
async function* fixedSizeChunks(stream: Readable, frameBytes: number): AsyncGenerator<Buffer> {
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      chunk.copy(frame, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        yield frame;
        frame = Buffer.allocUnsafe(frameBytes);
        filled = 0;
      }
    }
  }
  if (filled !== 0) throw new DecodeError(`ffmpeg output ended inside a frame (${filled} of ${frameBytes} bytes)`, []);
}

interface RawFrame {
  /**
   * showinfo's pts, in the time base of its input. After the fps filter that
   * is 1/sampleFps, so this is the frame's slot on the sampling grid, exact
   * (pts_time is printed with 6 significant digits only).
   */
  pts: number;
  /** showinfo's pts_time, in ms. */
  ptsTime: number;
  /** showinfo's input time base, [num, den], when it printed one. */
  timeBase: [number, number] | undefined;
  rgb: Buffer;
}

interface Timestamp {
  pts: number;
  ptsTime: number;
  timeBase: [number, number] | undefined;
}

interface RunOptions {
  /** Options before `-i` (an input seek). */
  inputOptions?: string[];
  filter: string;
  outputOptions: string[];
  frameBytes: number;
  signal: AbortSignal | undefined;
  onLog: ((line: string) => void) | undefined;
}

/** One ffmpeg run: raw RGB frames out of `filter`, each with the pts showinfo printed for it. */
async function* runFfmpeg(path: string, binaries: FfmpegBinaries, options: RunOptions): AsyncGenerator<RawFrame> {
  const { filter, outputOptions, frameBytes, signal, onLog } = options;
  const timestamps = new OrderedMailbox<Timestamp>();
  const stderrTail: string[] = [];
  let timeBase: [number, number] | undefined;
  let failure: Error | undefined;
  let finished = false;

  const command = ffmpeg(path)
    .setFfmpegPath(binaries.ffmpeg)
    .inputOptions(['-nostdin', '-hide_banner', ...(options.inputOptions ?? [])])
    .noAudio()
    // Output timestamps from 0: ffmpeg's output sync then neither repeats nor drops a frame (as it does
    // for a stream starting later, e.g. a picture that starts after the sound), so frames and showinfo's
    // timestamps stay paired one to one.
    .videoFilters(`${filter},setpts=PTS-STARTPTS`)
    .outputOptions([...outputOptions, '-pix_fmt', 'rgb24', '-f', 'rawvideo'])
    .on('stderr', (line: string) => {
      const shown = SHOWINFO_PTS.exec(line);
      if (shown?.[1] !== undefined && shown[2] !== undefined) {
        const pts = Number.parseInt(shown[1], 10);
        timestamps.push({ pts, ptsTime: Number.parseFloat(shown[2]) * 1000, timeBase });
        return;
      }
      const base = SHOWINFO_TIME_BASE.exec(line);
      if (base?.[1] !== undefined && base[2] !== undefined) {
        timeBase = [Number(base[1]), Number(base[2])];
        return;
      }
      if (NOISE.test(line) || !line.trim()) return;
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      onLog?.(line);
    })
    .on('error', (error: Error) => {
      if (!finished) failure = new DecodeError(`ffmpeg failed: ${stderrTail.at(-1) ?? error.message}`, [...stderrTail]);
      timestamps.close();
    })
    .on('end', () => timestamps.close());
  const exited = new Promise<void>((resolve) => {
    command.once('end', () => resolve());
    command.once('error', () => resolve());
  });

  const abort = () => command.kill('SIGKILL');
  signal?.addEventListener('abort', abort, { once: true });
  // fluent-ffmpeg kills ffmpeg 20 ms after its output stream closes and reports "Output stream closed":
  // under load a healthy ffmpeg that has written its last frame may not have exited by then, and a good
  // video would fail. An output stream that never emits 'close' leaves ffmpeg's exit status to decide.
  const output = new PassThrough({ emitClose: false });
  command.pipe(output);
  output.on('error', () => {});

  let count = 0;
  try {
    for await (const rgb of fixedSizeChunks(output, frameBytes)) {
      signal?.throwIfAborted();
      const timestamp = await timestamps.next();
      if (timestamp === undefined) {
        signal?.throwIfAborted();
        throw failure ?? new DecodeError(`ffmpeg gave no timestamp for frame ${count}`, [...stderrTail]);
      }
      if (Number.isNaN(timestamp.pts) || Number.isNaN(timestamp.ptsTime)) {
        throw new DecodeError(`ffmpeg gave frame ${count} no timestamp`, [...stderrTail]);
      }
      yield { ...timestamp, rgb };
      count += 1;
    }
    // Output ended: ffmpeg's exit status decides whether the video was read to its end.
    await exited;
    signal?.throwIfAborted();
    if (failure) throw failure;
  } finally {
    finished = true;
    signal?.removeEventListener('abort', abort);
    command.kill('SIGKILL');
  }
}

/**
 * How far before the resume point a resumed decode seeks, tried in turn: a
 * demuxer that seeks by timestamp rather than to a keyframe (MPEG-TS) lands
 * on the next keyframe after the seek point, up to a GOP later.
 */
const SEEK_MARGINS_S = [2, 10, 60];

const execFileAsync = promisify(execFile);
const SHOWINFO_INSTANCE = /Parsed_showinfo_(\d+).*\bpts:\s*(-?\d+)\s/;

interface ShownPts {
  /** showinfo's position in the filter chain. */
  instance: number;
  pts: number;
}

/** The timestamps showinfo filters of `filter` print until the first frame is out. */
async function showinfoUntilFirstFrame(
  path: string,
  binaries: FfmpegBinaries,
  inputOptions: string[],
  filter: string,
  signal: AbortSignal | undefined,
): Promise<ShownPts[]> {
  const args = ['-nostdin', '-hide_banner', ...inputOptions, '-i', path, '-an', '-sn', '-dn', '-vf', filter];
  const { stderr } = await execFileAsync(binaries.ffmpeg, [...args, '-frames:v', '1', '-f', 'null', '-'], {
    signal,
    maxBuffer: 16 << 20,
  });
  const shown: ShownPts[] = [];
  for (const line of stderr.split('\n')) {
    const match = SHOWINFO_INSTANCE.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    shown.push({ instance: Number(match[1]), pts: Number.parseInt(match[2], 10) });
  }
  return shown;
}

/**
 * The sampling-grid slot of a decode's frame 0 (0, unless the picture starts
 * after the container, e.g. after its sound), from two one-frame runs: a
 * decode from the start, and the same with the timestamps a seeked run has
 * (`-copyts -start_at_zero`: stored, from the container's start, whatever the
 * seek). Undefined when the two disagree about the first frame's pts (ffmpeg
 * has corrected the timestamps at the start in a way it does not after a
 * seek): the seeked run's slots would not be the decode's.
 */
async function probeOrigin(
  path: string,
  binaries: FfmpegBinaries,
  sampleFps: number,
  signal: AbortSignal | undefined,
): Promise<{ origin: number } | { reason: string }> {
  let shifted: ShownPts[];
  let kept: ShownPts[];
  try {
    // Chain positions: showinfo 0, fps 1, showinfo 2.
    shifted = await showinfoUntilFirstFrame(path, binaries, [], `showinfo,fps=${sampleFps},showinfo`, signal);
    kept = await showinfoUntilFirstFrame(path, binaries, ['-copyts', '-start_at_zero'], 'showinfo', signal);
  } catch {
    signal?.throwIfAborted();
    return { reason: 'the first frame could not be probed' }; // the decode from the start reports the problem
  }
  const first = shifted.find((s) => s.instance === 0);
  const origin = shifted.find((s) => s.instance === 2);
  const stored = kept.find((s) => s.instance === 0);
  if (!first || !origin || !stored) return { reason: 'the first frame could not be probed' };
  if (first.pts !== stored.pts) {
    return { reason: `ffmpeg shifts the timestamps by ${first.pts - stored.pts} ticks at the start only` };
  }
  return { origin: origin.pts };
}

/**
 * Decodes a video with ffmpeg into sampled, resized, centre-cropped RGB frames,
 * streaming: ffmpeg is paused by the pipe while the consumer is busy, so memory
 * stays flat whatever the length of the video. Each frame carries the pts the
 * decoder gave it (not a count), so variable-frame-rate video stays aligned:
 * its slot on the fps filter's grid (n / sampleFps), in ms.
 * Frames are upright: ffmpeg turns rotated recordings (phones) as it decodes.
 * A video too short for the sampling to pick any frame (under half a sampling
 * interval: a few frames, a single one) gives its first frame, at its own pts,
 * so that every decodable video yields at least one frame.
 * With `startIndex`, it resumes there (see `resumeFrames`).
 * Stopping the iteration early (or aborting) kills ffmpeg.
 */
export async function* decodeFrames(
  path: string,
  binaries: FfmpegBinaries,
  options: DecodeOptions,
): AsyncGenerator<DecodedFrame> {
  const { sampleFps, size, signal, onLog } = options;
  const startIndex = options.startIndex ?? 0;
  const keyframes = options.select === 'keyframes';
  const hwaccel = options.hwaccel ? ['-hwaccel', options.hwaccel] : [];
  const run: RunOptions = {
    frameBytes: size * size * 3,
    signal,
    onLog,
    inputOptions: hwaccel,
    outputOptions: [],
    filter: '',
  };
  // Keyframes alone decode so fast that a resumed decode simply starts over and drops what came before.
  if (startIndex > 0 && !keyframes) {
    const resumed = yield* resumeFrames(path, binaries, { ...options, startIndex }, run);
    if (resumed) return;
  }

  const sampled: RunOptions = keyframes
    ? {
        ...run,
        inputOptions: [...hwaccel, '-skip_frame', 'nokey'],
        filter: keyframeFilter(sampleFps, size),
        // Every selected keyframe once, at its own time: no frame rate for ffmpeg to fill or thin out.
        outputOptions: ['-vsync', 'passthrough'],
      }
    : { ...run, filter: frameFilter(sampleFps, size) };
  let index = 0;
  for await (const frame of runFfmpeg(path, binaries, sampled)) {
    // Resuming without a seek: the frames before the resume point are decoded, and dropped.
    const ptsMs = keyframes ? streamMs(frame) : slotMs(frame.pts, sampleFps);
    if (index >= startIndex) yield { index, ptsMs, rgb: frame.rgb };
    index += 1;
  }
  if (index > 0 || startIndex > 0) return;

  // ffmpeg read the whole video without error, yet the fps filter emitted nothing: the video
  // ends before the first sampling slot closes (fps=2 needs 0.25 s). Its first frame stands in.
  signal?.throwIfAborted();
  const first = { ...run, filter: firstFrameFilter(size), outputOptions: ['-frames:v', '1'] };
  for await (const frame of runFfmpeg(path, binaries, first)) {
    yield { index, ptsMs: Math.max(0, Math.round(frame.ptsTime)), rgb: frame.rgb };
    index += 1;
  }
}

/** A frame's own presentation time, in ms: its pts in showinfo's time base (exact), else pts_time. */
function streamMs(frame: RawFrame): number {
  if (!frame.timeBase) return Math.max(0, Math.round(frame.ptsTime));
  const [num, den] = frame.timeBase;
  return Math.max(0, Math.round((frame.pts * num * 1000) / den));
}

/** The time of a slot of the sampling grid, in ms. */
function slotMs(slot: number, sampleFps: number): number {
  return Math.max(0, Math.round((slot * 1000) / sampleFps));
}

/**
 * Resumes a decode at frame `startIndex` with an input seek (`-ss` before
 * `-i`: fast, it lands on a keyframe before the seek point), yielding exactly
 * the frames a decode from the start gives from that index on.
 *
 * A decode from the start numbers the fps filter's output 0, 1, 2, … from its
 * first slot `origin` (0, unless the picture starts after the container, e.g.
 * after its sound): frame i is slot origin + i, at (origin + i) / sampleFps
 * seconds. The fps filter gives slot n the last frame whose time, rounded to
 * the grid, is at most n. After a seek to a keyframe K before the target slot
 * T, every frame from K on is decoded as in a full decode; the frame a full
 * decode gives slot n ≥ T is one of them (K itself is a candidate for every
 * such slot, and the chosen frame is never earlier than a candidate), so the
 * seeked decode picks the same frame, with the same pixels (decoded from the
 * same keyframe on) — provided its timestamps are those of the decode from
 * the start. ffmpeg shifts timestamps by the seek point after a seek (and
 * then leaves out the start-time correction it makes for MPEG-TS whose sound
 * starts first), so the seeked run keeps them as stored, from the container's
 * start (`-copyts -start_at_zero`, with that correction): checked on the first
 * frame against a decode from the start (`probeOrigin`), the fps filter sees
 * the very timestamps of the full decode, and the same slots come out. Frames
 * before T (from K on) are decoded and dropped here.
 *
 * When the first frame after the seek is later than T (a demuxer that seeks
 * by timestamp, not to a keyframe), it seeks again further back. Where a seek
 * cannot be relied on it returns false, having yielded nothing, and the caller
 * decodes from the start: the seek kept landing late, gave no frame or failed
 * before giving one, the probe failed or found the timestamps shifted
 * differently, or the target is too close to the start for a seek to save
 * anything. One limit remains: a stream whose timestamps jump after its start
 * (an MPEG-TS recorder restarted inside one file) is corrected by ffmpeg only
 * when decoded through the jump, so frames resumed after such a jump may be
 * numbered differently.
 */
async function* resumeFrames(
  path: string,
  binaries: FfmpegBinaries,
  options: DecodeOptions & { startIndex: number },
  run: RunOptions,
): AsyncGenerator<DecodedFrame, boolean> {
  const { sampleFps, size, startIndex, onResume, signal } = options;
  const fromStart = (reason: string) => {
    onResume?.({ startIndex, seekS: undefined, fromStart: reason });
    return false;
  };
  const probed = await probeOrigin(path, binaries, sampleFps, signal);
  if ('reason' in probed) return fromStart(probed.reason);
  const { origin } = probed;
  const target = origin + startIndex;
  let lastReason = 'the resume point is too close to the start for a seek';
  for (const margin of SEEK_MARGINS_S) {
    const seekS = Math.floor((target / sampleFps - Math.max(margin, 2 / sampleFps)) * 1000) / 1000;
    if (seekS <= 0) break;
    signal?.throwIfAborted();
    const seeked: RunOptions = {
      ...run,
      inputOptions: [
        ...(run.inputOptions ?? []),
        '-ss',
        seekS.toFixed(3),
        '-noaccurate_seek',
        '-copyts',
        '-start_at_zero',
      ],
      filter: frameFilter(sampleFps, size),
    };
    let first = true;
    let landedLate = false;
    let yielded = false;
    try {
      for await (const frame of runFfmpeg(path, binaries, seeked)) {
        const slot = frame.pts;
        if (first) {
          first = false;
          if (slot > target) {
            landedLate = true;
            break;
          }
        }
        if (slot < target) continue;
        if (!yielded) onResume?.({ startIndex, seekS });
        yielded = true;
        yield { index: slot - origin, ptsMs: slotMs(slot, sampleFps), rgb: frame.rgb };
      }
    } catch (error) {
      signal?.throwIfAborted();
      // Once frames are out the decode cannot start over; a decode from the start would meet the same data.
      if (yielded) throw error;
      lastReason = `the seek to ${seekS} s failed: ${error instanceof Error ? error.message : String(error)}`;
      continue;
    }
    if (!first && !landedLate) {
      // The video ends before the resume point: nothing is left to decode.
      if (!yielded) onResume?.({ startIndex, seekS });
      return true;
    }
    lastReason = landedLate
      ? `the seek to ${seekS} s landed after the resume point`
      : `the seek to ${seekS} s gave no frame`;
  }
  return fromStart(lastReason);
}
