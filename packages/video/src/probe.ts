import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { InvalidVideoError } from './errors.js';

export interface VideoProbeResult {
  container: string;
  durationMs: number;
  /**
   * Display size: the coded size turned by `rotation`, i.e. the size of the
   * upright frames decodeFrames reads (ffmpeg autorotates). A phone recording
   * coded 1920x1080 with a 90° rotation is 1080x1920.
   */
  width: number;
  height: number;
  /**
   * Clockwise degrees, 0 to 359, by which the coded frames are turned for
   * display (the container's display matrix, or an older ffprobe's `rotate`
   * tag): 90 for a phone held upright, 0 for most cameras.
   */
  rotation: number;
  codec: string;
  /**
   * Average frame rate of the video stream; null when the container does not
   * say. For a stream without a duration (raw .h264/.h265), the frames counted
   * over the duration measured from them (see `durationMs`).
   */
  fps: number | null;
  frameCount: number | null;
  hasAudio: boolean;
}

/**
 * Where the container gives no duration (raw H.264/H.265 elementary streams:
 * .h264, .h265, .hevc) or none above zero (a DHAV file under a second: its
 * demuxer measures whole seconds of its frames' dates), vad measures it from
 * the packets, as ffmpeg will time them when decoding: frame count and
 * durations (from the stream's VUI timing, else ffmpeg's default 25 fps).
 */
interface MeasuredStream {
  durationS: number;
  frames: number;
}

/** Time base "1/1200000" in seconds per tick. */
function parseTimeBase(value: string | undefined): number | null {
  const [num, den] = (value ?? '').split('/').map(Number);
  return num && den && Number.isFinite(num / den) ? num / den : null;
}

/**
 * Reads every packet of the first video stream (no decoding: the demuxer and
 * parser only, as fast as the disk) for its count and extent: from the first
 * pts to the last, plus one average frame interval, where packets have
 * timestamps; the sum of their durations where they have none (raw streams).
 */
async function measurePackets(path: string, binaries: FfmpegBinaries): Promise<MeasuredStream | null> {
  const args = ['-v', 'error', '-select_streams', 'v:0'];
  args.push('-show_entries', 'packet=pts,duration:stream=time_base', '-of', 'compact', path);
  const child = spawn(binaries.ffprobe, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  let frames = 0;
  let minPts = Number.POSITIVE_INFINITY;
  let maxPts = Number.NEGATIVE_INFINITY;
  let durationSum = 0;
  let allDurations = true;
  let timeBase: number | null = null;
  for await (const line of createInterface({ input: child.stdout })) {
    const fields = new Map(
      line
        .split('|')
        .slice(1)
        .map((f) => f.split('=') as [string, string]),
    );
    if (line.startsWith('packet|')) {
      frames += 1;
      const pts = Number(fields.get('pts'));
      if (Number.isFinite(pts)) {
        minPts = Math.min(minPts, pts);
        maxPts = Math.max(maxPts, pts);
      }
      const duration = Number(fields.get('duration'));
      if (Number.isFinite(duration) && duration > 0) durationSum += duration;
      else allDurations = false;
    } else if (line.startsWith('stream|')) timeBase = parseTimeBase(fields.get('time_base'));
  }
  if ((await exited) !== 0 || timeBase === null || frames === 0) return null;
  let ticks: number | null = null;
  if (frames > 1 && maxPts > minPts) ticks = ((maxPts - minPts) * frames) / (frames - 1);
  else if (allDurations) ticks = durationSum;
  return ticks && ticks > 0 ? { durationS: ticks * timeBase, frames } : null;
}

export const DIMENSION_LIMITS = { min: 16, max: 16_384 } as const;

function parseRate(rate: string | undefined): number | null {
  if (!rate) return null;
  const [num, den] = rate.split('/').map(Number);
  if (!num || !Number.isFinite(num)) return null;
  const value = den ? num / den : num;
  return Number.isFinite(value) && value > 0 ? value : null;
}

function toNumber(value: unknown): number | null {
  const n = typeof value === 'string' ? Number.parseFloat(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/**
 * Clockwise degrees in [0, 360) by which the stream is turned for display.
 * ffprobe gives the Display Matrix side data's `rotation` in counter-clockwise
 * degrees (fluent-ffmpeg's parser flattens the [SIDE_DATA] block into the
 * stream, so it arrives as `stream.rotation`, a number or a string like "-90");
 * ffprobe before 5 also gives the clockwise `rotate` tag.
 */
function displayRotation(stream: ffmpeg.FfprobeStream): number {
  const counterClockwise = toNumber(stream.rotation);
  const clockwise = counterClockwise !== null ? -counterClockwise : (toNumber(stream.tags?.rotate) ?? 0);
  const degrees = ((clockwise % 360) + 360) % 360;
  // Within a degree of a right angle, as ffmpeg's autorotation decides.
  const rightAngle = Math.round(degrees / 90) * 90;
  return (Math.abs(degrees - rightAngle) < 1 ? rightAngle : Math.round(degrees)) % 360;
}

/**
 * ffprobe's complaint in a line: the demuxer's details first, then the
 * verdict, e.g. "moov atom not found; Invalid data found when processing input".
 */
function ffprobeReason(error: Error, path: string): string {
  const lines = error.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(ffprobe (version|exited)|built with|configuration:|lib\w+\s+\d)/.test(l));
  const isDemuxerLine = (l: string) => /^\[[^\]]+ @ 0x[0-9a-f]+\]/.test(l);
  const details = lines
    .filter((l) => isDemuxerLine(l) && !/misdetection possible/.test(l))
    .map((l) => l.replace(/^\[[^\]]+\]\s*/, ''));
  const verdict = lines
    .filter((l) => !isDemuxerLine(l))
    .at(-1)
    ?.replace(`${path}: `, '');
  const parts = [...new Set([...details, verdict].filter((p): p is string => Boolean(p)))];
  return parts.length ? parts.join('; ') : error.message;
}

/**
 * Reads a file's container and video stream with ffprobe, and checks that it
 * is a video vad can process: a video stream, a duration above zero, sane
 * dimensions. Anything else throws InvalidVideoError with a readable reason.
 */
export async function probeVideo(path: string, binaries: FfmpegBinaries): Promise<VideoProbeResult> {
  const data = await new Promise<ffmpeg.FfprobeData>((resolve, reject) => {
    ffmpeg(path)
      .setFfprobePath(binaries.ffprobe)
      .ffprobe((error: Error | null, result: ffmpeg.FfprobeData) => {
        if (error) reject(new InvalidVideoError(`not a readable video file: ${ffprobeReason(error, path)}`));
        else resolve(result);
      });
  });

  const streams = data.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const kinds = [...new Set(streams.map((s) => s.codec_type ?? 'unknown'))];
    throw new InvalidVideoError(
      kinds.length ? `contains no video stream (only ${kinds.join(', ')})` : 'contains no video stream',
    );
  }

  // ffmpeg turns frames by a right angle when decoding (autorotate), so the display size is what vad sees.
  const rotation = displayRotation(video);
  const turned = rotation === 90 || rotation === 270;
  const width = (turned ? video.height : video.width) ?? 0;
  const height = (turned ? video.width : video.height) ?? 0;
  if (
    width < DIMENSION_LIMITS.min ||
    height < DIMENSION_LIMITS.min ||
    width > DIMENSION_LIMITS.max ||
    height > DIMENSION_LIMITS.max
  ) {
    throw new InvalidVideoError(
      `video dimensions ${width}x${height} are outside ${DIMENSION_LIMITS.min}..${DIMENSION_LIMITS.max} pixels`,
    );
  }

  let durationS = toNumber(video.duration) ?? toNumber(data.format.duration);
  let measured: MeasuredStream | null = null;
  if (durationS === null || durationS <= 0) {
    measured = await measurePackets(path, binaries);
    durationS = measured?.durationS ?? null;
  }
  if (durationS === null || durationS <= 0) {
    throw new InvalidVideoError('video has no duration (empty or unreadable stream)');
  }

  return {
    container: data.format.format_name ?? 'unknown',
    durationMs: Math.round(durationS * 1000),
    width,
    height,
    rotation,
    codec: video.codec_name ?? 'unknown',
    // A raw stream's avg_frame_rate is the demuxer's default (25), whatever the stream's timing says.
    fps: measured
      ? measured.frames / measured.durationS
      : (parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate)),
    frameCount: measured ? measured.frames : toNumber(video.nb_frames),
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}
