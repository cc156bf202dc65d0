import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { DecodeError } from './errors.js';

export interface DecodeOptions {
  /** Frames per second of video to sample. */
  sampleFps: number;
  /** Side of the square output: shortest side resized to it, then centre-cropped, as CLIP preprocesses. */
  size: number;
  signal?: AbortSignal;
  /** Called with each line ffmpeg writes to stderr that is not per-frame noise (warnings, errors). */
  onLog?: (line: string) => void;
}

export interface DecodedFrame {
  /** 0-based index among sampled frames. */
  index: number;
  /**
   * Presentation time from the decoder, in ms from the start of the recording
   * as a player shows it: ffmpeg shifts every stream by the container's start
   * time, so a file cut from a longer stream (MPEG-TS from an NVR starting at
   * 1000 s) still starts at 0.
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

/** The same graph for the video's first frame alone, at its own pts. */
function firstFrameFilter(size: number): string {
  return ['trim=end_frame=1', ...frameFilter(1, size).split(',').slice(1)].join(',');
}

const SHOWINFO_PTS = /Parsed_showinfo.*\bpts_time:\s*(-?[\d.]+)/;
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
  /** showinfo's pts_time, in ms. */
  ptsTime: number;
  rgb: Buffer;
}

interface RunOptions {
  filter: string;
  outputOptions: string[];
  frameBytes: number;
  signal: AbortSignal | undefined;
  onLog: ((line: string) => void) | undefined;
}

/** One ffmpeg run: raw RGB frames out of `filter`, each with the pts showinfo printed for it. */
async function* runFfmpeg(path: string, binaries: FfmpegBinaries, options: RunOptions): AsyncGenerator<RawFrame> {
  const { filter, outputOptions, frameBytes, signal, onLog } = options;
  const timestamps = new OrderedMailbox<number>();
  const stderrTail: string[] = [];
  let failure: Error | undefined;
  let finished = false;

  const command = ffmpeg(path)
    .setFfmpegPath(binaries.ffmpeg)
    .inputOptions(['-nostdin', '-hide_banner'])
    .noAudio()
    .videoFilters(filter)
    .outputOptions([...outputOptions, '-pix_fmt', 'rgb24', '-f', 'rawvideo'])
    .on('stderr', (line: string) => {
      const pts = SHOWINFO_PTS.exec(line);
      if (pts?.[1] !== undefined) {
        timestamps.push(Number.parseFloat(pts[1]) * 1000);
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
  const output = command.pipe() as Readable;
  output.on('error', () => {});

  let count = 0;
  try {
    for await (const rgb of fixedSizeChunks(output, frameBytes)) {
      signal?.throwIfAborted();
      const ptsTime = await timestamps.next();
      if (ptsTime === undefined) {
        signal?.throwIfAborted();
        throw failure ?? new DecodeError(`ffmpeg gave no timestamp for frame ${count}`, [...stderrTail]);
      }
      yield { ptsTime, rgb };
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
 * Decodes a video with ffmpeg into sampled, resized, centre-cropped RGB frames,
 * streaming: ffmpeg is paused by the pipe while the consumer is busy, so memory
 * stays flat whatever the length of the video. Each frame carries the pts the
 * decoder gave it (not a count), so variable-frame-rate video stays aligned.
 * Frames are upright: ffmpeg turns rotated recordings (phones) as it decodes.
 * A video too short for the sampling to pick any frame (under half a sampling
 * interval: a few frames, a single one) gives its first frame, at its own pts,
 * so that every decodable video yields at least one frame.
 * Stopping the iteration early (or aborting) kills ffmpeg.
 */
export async function* decodeFrames(
  path: string,
  binaries: FfmpegBinaries,
  options: DecodeOptions,
): AsyncGenerator<DecodedFrame> {
  const { sampleFps, size, signal, onLog } = options;
  const run = { frameBytes: size * size * 3, signal, onLog, outputOptions: [] };
  let index = 0;
  const toFrame = ({ ptsTime, rgb }: RawFrame): DecodedFrame => ({
    index,
    ptsMs: Math.max(0, Math.round(ptsTime)),
    rgb,
  });

  for await (const frame of runFfmpeg(path, binaries, { ...run, filter: frameFilter(sampleFps, size) })) {
    yield toFrame(frame);
    index += 1;
  }
  if (index > 0) return;

  // ffmpeg read the whole video without error, yet the fps filter emitted nothing: the video
  // ends before the first sampling slot closes (fps=2 needs 0.25 s). Its first frame stands in.
  signal?.throwIfAborted();
  const first = { ...run, filter: firstFrameFilter(size), outputOptions: ['-frames:v', '1'] };
  for await (const frame of runFfmpeg(path, binaries, first)) {
    yield toFrame(frame);
    index += 1;
  }
}
