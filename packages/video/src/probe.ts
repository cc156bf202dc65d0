import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { InvalidVideoError } from './errors.js';

export interface VideoProbeResult {
  container: string;
  durationMs: number;
  /** Offset of the first video timestamp; frame pts are reported relative to it. */
  startTimeMs: number;
  width: number;
  height: number;
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

  const width = video.width ?? 0;
  const height = video.height ?? 0;
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

  const startS = toNumber(video.start_time) ?? toNumber(data.format.start_time) ?? 0;
  return {
    container: data.format.format_name ?? 'unknown',
    durationMs: Math.round(durationS * 1000),
    startTimeMs: Math.round(startS * 1000),
    width,
    height,
    codec: video.codec_name ?? 'unknown',
    fps: parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate),
    frameCount: toNumber(video.nb_frames),
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}
