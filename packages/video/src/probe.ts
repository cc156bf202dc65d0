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
  /** Average frame rate of the video stream; null when the container does not say. */
  fps: number | null;
  frameCount: number | null;
  hasAudio: boolean;
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

  const durationS = toNumber(video.duration) ?? toNumber(data.format.duration);
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
    fps: parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate),
    frameCount: toNumber(video.nb_frames),
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}
