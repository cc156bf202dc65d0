import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { DecodeError, InvalidVideoError } from './errors.js';

const run = promisify(execFile);

/** How much of the video before an event's start its clip shows. */
export const EVENT_CLIP_PRE_ROLL_MS = 5_000;
/** How much of the video after an event's end its clip shows. */
export const EVENT_CLIP_POST_ROLL_MS = 3_000;
/** The widest clip made: larger sources are scaled down to it, keeping their display aspect. */
export const EVENT_CLIP_MAX_WIDTH = 640;

/** A span of a video, in milliseconds from its start. */
export interface ClipSpan {
  fromMs: number;
  toMs: number;
}

/**
 * The part of the video an event's clip covers: from EVENT_CLIP_PRE_ROLL_MS
 * before its start to EVENT_CLIP_POST_ROLL_MS after its end, within
 * [0, durationMs] (only from 0 when the duration is unknown).
 */
export function clipSpan(event: { startMs: number; endMs: number }, durationMs: number | null): ClipSpan {
  let fromMs = Math.max(0, Math.round(event.startMs - EVENT_CLIP_PRE_ROLL_MS));
  let toMs = Math.max(fromMs, Math.round(event.endMs + EVENT_CLIP_POST_ROLL_MS));
  if (durationMs !== null && durationMs > 0) {
    toMs = Math.min(toMs, durationMs);
    fromMs = Math.min(fromMs, toMs);
  }
  return { fromMs, toMs };
}

/** Containers a browser's <video> element opens (by file extension or ffprobe's format name). */
const BROWSER_CONTAINERS = new Set(['mp4', 'mov', 'm4v', 'webm']);
/** Video codecs (ffprobe's codec_name) browsers decode everywhere. */
const BROWSER_CODECS = new Set(['h264', 'vp8', 'vp9', 'av1']);

/**
 * Whether a browser plays the video as it is: an MP4/QuickTime/M4V or WebM
 * container holding H.264, VP8, VP9 or AV1. `container` is a file name or
 * extension (`.mp4`, `clip.webm`) or ffprobe's format name (`mov,mp4,m4a,3gp,3g2,mj2`;
 * `matroska,webm` only counts for the WebM codecs, since a Matroska file says the same).
 * HEVC, MPEG-4 Part 2, MPEG-2, Matroska, AVI, MPEG-TS… are not: their events have clips.
 */
export function browserPlayable(video: { container?: string | null; codec: string | null }): boolean {
  const codec = video.codec?.trim().toLowerCase();
  if (!codec || !BROWSER_CODECS.has(codec)) return false;
  const container = video.container?.trim().toLowerCase();
  if (!container) return false;
  if (container.includes(',')) {
    const names = container.split(',');
    if (names.includes('mp4') || names.includes('mov')) return true;
    return names.includes('webm') && codec !== 'h264';
  }
  const extension = extname(container).slice(1) || container.replace(/^\./, '');
  return BROWSER_CONTAINERS.has(extension);
}

export interface EventClipOptions {
  /** Widest output, in pixels (default EVENT_CLIP_MAX_WIDTH); never scaled up. */
  maxWidth?: number;
  /** x264 constant rate factor (default 28: small files, fine for review). */
  crf?: number;
  /**
   * x264 preset (default `ultrafast`, with deblocking and CABAC kept on: on
   * two cores it takes about 20% less CPU than `veryfast` for quiet and noisy
   * 720p footage alike; quiet scenes make files of the same size, noisy ones
   * about 4× larger, ~0.6 Mbit/s; see bench/results/clips.md).
   */
  preset?: string;
  /** Encoder threads (default 2: a clip leaves the machine's other cores to the workers). */
  threads?: number;
  /** ffmpeg is killed after this many seconds (default 120 s plus the span's length). */
  timeoutS?: number;
  /**
   * `auto` (default): a source a browser decodes as it is (see copyable) is cut
   * without re-encoding; any other is transcoded. `transcode`: always transcode.
   */
  method?: 'auto' | 'transcode';
}

export interface EventClip {
  path: string;
  bytes: number;
  /** Frames written. */
  frames: number;
  span: ClipSpan;
  /** `copy`: cut from the source's own H.264 stream; `transcode`: encoded anew. */
  method: 'copy' | 'transcode';
}

/** The tallest source cut without re-encoding (1080p, coded as 1088 lines by some encoders). */
const COPY_MAX_HEIGHT = 1088;
const COPY_PIXEL_FORMATS = new Set(['yuv420p', 'yuvj420p']);

/**
 * Whether the clip can be cut from the source's own stream: H.264 in 4:2:0
 * (what every browser decodes) of at most 1080p, in an MP4/QuickTime or
 * Matroska file. Those containers seek to the key frame at or before the point
 * asked, and the MP4 written keeps the frames before the span out of view with
 * an edit list, so the clip starts where asked. (MPEG-TS seeks near the point,
 * often after it: transcoded, with its own check.) Cutting costs reading the
 * span's bytes, not decoding it: hundreds of times real time.
 */
async function copyable(source: string, binaries: FfmpegBinaries): Promise<{ copy: boolean; durationMs?: number }> {
  try {
    const { stdout } = await run(binaries.ffprobe, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt,height'],
      ...['-show_entries', 'format=format_name,duration', '-of', 'json', source],
    ]);
    const info = JSON.parse(stdout) as {
      streams?: { codec_name?: string; pix_fmt?: string; height?: number }[];
      format?: { format_name?: string; duration?: string };
    };
    const stream = info.streams?.[0];
    const formats = (info.format?.format_name ?? '').split(',');
    const durationS = Number.parseFloat(info.format?.duration ?? '');
    const copy =
      stream?.codec_name === 'h264' &&
      COPY_PIXEL_FORMATS.has(stream.pix_fmt ?? '') &&
      (stream.height ?? Number.POSITIVE_INFINITY) <= COPY_MAX_HEIGHT &&
      (formats.includes('mov') || formats.includes('matroska'));
    return Number.isFinite(durationS) ? { copy, durationMs: durationS * 1000 } : { copy };
  } catch {
    // Unreadable here: the transcode says why in ffmpeg's words.
    return { copy: false };
  }
}

/** The last frame count ffmpeg's `-stats` lines reported. */
function framesWritten(stderr: string): number {
  const counts = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  return Number(counts.at(-1)?.[1] ?? 0);
}

/** ffmpeg's complaint in a line: its error lines without banners, stats and demuxer addresses. */
function ffmpegReason(stderr: string, fallback: string): string {
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(frame=|ffmpeg version|built with|configuration:|lib\w+\s+\d|Press \[q\])/.test(l))
    .map((l) => l.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/, ''));
  const unique = [...new Set(lines)].slice(-4);
  return unique.length ? unique.join('; ') : fallback;
}

/**
 * How far before a span the input is sought: the demuxer lands on a key frame
 * there, and the frames up to the span are decoded and dropped. MP4 and
 * Matroska land on the key frame before the point asked; MPEG-TS (and raw
 * streams) on one near it, often after: the margin covers a GOP of up to 3 s.
 * A clip that still starts late is made again from SEEK_MARGINS_MS' next margin.
 */
const SEEK_MARGINS_MS = [3_000, 30_000] as const;
/** A clip whose first frame is this late (seconds) lacks frames at its start. */
const LATE_START_S = 0.2;

/**
 * Seconds into the file its first frame is shown (an MP4's edit list says so
 * when frames are missing at its start); 0 when ffprobe cannot tell.
 */
async function startTime(path: string, binaries: FfmpegBinaries): Promise<number> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0'];
  const stdout = await run(binaries.ffprobe, [...args, path]).then(
    (r) => r.stdout,
    () => '',
  );
  const value = Number.parseFloat(stdout.trim());
  return Number.isFinite(value) ? value : 0;
}

interface Encode {
  source: string;
  part: string;
  span: ClipSpan;
  /** Where the input is sought to, ms; the rest up to span.fromMs is decoded and dropped. */
  seekMs: number;
  /** Output options that make the video stream (encoder and filter, or stream copy). */
  videoOptions: string[];
  timeoutS: number;
}

/** The output options of a transcode: scaled by `filter`, H.264 from libx264. */
function transcodeOptions(filter: string, options: Required<Omit<EventClipOptions, 'timeoutS' | 'method'>>): string[] {
  return [
    ...['-vf', filter, '-vsync', 'vfr'],
    ...['-c:v', 'libx264', '-preset', options.preset, '-crf', String(options.crf), '-pix_fmt', 'yuv420p'],
    // Deblocking and CABAC, which ultrafast leaves out: no blocks at CRF 28, smaller files, at no cost in speed.
    ...['-x264-params', 'deblock=0,0:cabac=1'],
    ...['-threads', String(options.threads)],
  ];
}

/** One ffmpeg run writing the clip to `part`; resolves with ffmpeg's stderr (its -stats lines). */
function encode(
  binaries: FfmpegBinaries,
  { source, part, span, seekMs, videoOptions, timeoutS }: Encode,
): Promise<string> {
  const lengthS = (span.toMs - span.fromMs) / 1000;
  return new Promise<string>((resolve, reject) => {
    const command = ffmpeg(source, { timeout: timeoutS })
      .setFfmpegPath(binaries.ffmpeg)
      .seekInput(seekMs / 1000)
      .inputOptions(['-nostdin']);
    if (span.fromMs > seekMs) command.seek((span.fromMs - seekMs) / 1000);
    command
      .outputOptions([
        ...['-loglevel', 'error', '-stats'],
        ...['-map', '0:v:0', '-an', '-sn', '-dn', '-map_metadata', '-1', '-t', lengthS.toFixed(3)],
        ...videoOptions,
        ...['-movflags', '+faststart', '-max_muxing_queue_size', '1024', '-f', 'mp4'],
      ])
      .output(part)
      .on('error', (error: Error, _stdout: string | null, stderrText: string | null) => {
        const text = stderrText ?? '';
        // A timeout or a signal says so itself; an exit code says nothing, ffmpeg's lines do.
        const reason = /exited with code/.test(error.message) ? ffmpegReason(text, error.message) : error.message;
        const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() && !l.startsWith('frame='));
        reject(
          new DecodeError(`could not make the clip of ${span.fromMs}–${span.toMs} ms: ${reason}`, lines.slice(-10)),
        );
      })
      .on('end', (_stdout: string | null, stderrText: string | null) => resolve(stderrText ?? ''))
      .run();
  });
}

/**
 * Makes the browser-playable clip of `span` of `source` at `target`: H.264
 * (yuv420p) in an MP4 with its index first (`+faststart`, so playback starts
 * before the download ends), no audio, starting at the span's first frame.
 * A source whose own stream a browser decodes (H.264 4:2:0 up to 1080p in MP4
 * or Matroska, see copyable) is cut without re-encoding, at its resolution;
 * any other is transcoded, at most `maxWidth` wide with even dimensions and
 * the source's display aspect. Seeks the input (`-ss` before `-i`) to a little
 * before the span, so a clip costs about its own length in decoding (or, cut,
 * in reading) wherever it lies in the video.
 *
 * Written to a part file unique to this call, then renamed onto `target`: a
 * crash never leaves a half clip under the final name, and two processes
 * making the same clip at once both end with a whole one. On failure nothing
 * is left; the error is a DecodeError (or InvalidVideoError when the span has
 * no frames) saying why in ffmpeg's words.
 */
export async function makeEventClip(
  source: string,
  target: string,
  span: ClipSpan,
  binaries: FfmpegBinaries,
  options: EventClipOptions = {},
): Promise<EventClip> {
  const lengthS = (span.toMs - span.fromMs) / 1000;
  if (!(lengthS > 0) || span.fromMs < 0)
    throw new InvalidVideoError(`the span ${span.fromMs}–${span.toMs} ms is empty`);
  const settings = {
    maxWidth: options.maxWidth ?? EVENT_CLIP_MAX_WIDTH,
    crf: options.crf ?? 28,
    preset: options.preset ?? 'ultrafast',
    threads: options.threads ?? 2,
    timeoutS: options.timeoutS ?? 120 + lengthS,
  };
  const part = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  await mkdir(dirname(target), { recursive: true });
  // Display width (square pixels), at most maxWidth, even; the height from the display aspect, even.
  const filter =
    `scale=w='trunc(min(${settings.maxWidth},iw*sar)/2)*2':h='max(2,trunc(ow/dar/2)*2)':flags=bilinear,` +
    'setsar=1,format=yuv420p';
  const cut = (options.method ?? 'auto') === 'auto' ? await copyable(source, binaries) : { copy: false };
  const method = cut.copy ? 'copy' : 'transcode';
  const { timeoutS } = settings;
  try {
    let frames = 0;
    if (method === 'copy') {
      // A stream copy past the end still writes the last key frame (hidden): no frames of the span.
      if (cut.durationMs !== undefined && span.fromMs >= cut.durationMs) {
        throw new InvalidVideoError(`the video has no frames between ${span.fromMs} and ${span.toMs} ms`);
      }
      const seekMs = span.fromMs;
      frames = framesWritten(
        await encode(binaries, { source, part, span, seekMs, videoOptions: ['-c:v', 'copy'], timeoutS }),
      );
    } else {
      const videoOptions = transcodeOptions(filter, settings);
      for (const margin of SEEK_MARGINS_MS) {
        const seekMs = Math.max(0, span.fromMs - margin);
        frames = framesWritten(await encode(binaries, { source, part, span, seekMs, videoOptions, timeoutS }));
        // Sought from the start, or the first frame where it belongs: done.
        if (frames === 0 || seekMs === 0 || (await startTime(part, binaries)) <= LATE_START_S) break;
      }
    }
    const info = await stat(part);
    if (frames === 0 || info.size === 0) {
      throw new InvalidVideoError(`the video has no frames between ${span.fromMs} and ${span.toMs} ms`);
    }
    await rename(part, target);
    return { path: target, bytes: info.size, frames, span, method };
  } finally {
    await rm(part, { force: true });
  }
}
