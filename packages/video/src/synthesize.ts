import { execFile } from 'node:child_process';
import { open, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { FfmpegBinaries } from './binaries.js';

const run = promisify(execFile);

export interface SynthesizeOptions {
  durationS: number;
  width?: number;
  height?: number;
  fps?: number;
  /** A lavfi source, e.g. `testsrc2` (moving pattern) or `color=c=gray`. */
  source?: string;
  /** Extra filters after the source, e.g. `noise=alls=6:allf=t+u` or a `drawbox` with `enable=`. */
  filters?: string;
  /** Move the moov atom to the front (as `-movflags +faststart` does). */
  faststart?: boolean;
  audio?: boolean;
  /** x264 preset: ultrafast for tests, slower presets for camera-like bitstreams. */
  preset?: string;
  /** Target bitrate in bit/s; unset = x264's default rate control. */
  bitrate?: number;
  /**
   * Store the footage as a phone or a camera mounted sideways does: the coded
   * frames turned the other way, and a display rotation of this many degrees
   * clockwise in the container (see `setDisplayRotation`). Players and ffmpeg's
   * autorotation show it as generated, `width`×`height`; the coded stream is
   * `height`×`width` for 90 and 270.
   */
  rotation?: DisplayRotation;
}

/** Clockwise degrees, as a phone's `rotate` tag says: 90 for a phone held upright. */
export type DisplayRotation = 0 | 90 | 180 | 270;

/** The filter that turns upright footage into the coded frames of a recording displayed at `rotation`. */
const CODED_FOR_ROTATION: Record<DisplayRotation, string | undefined> = {
  0: undefined,
  90: 'transpose=cclock',
  180: 'hflip,vflip',
  270: 'transpose=clock',
};

/**
 * Writes an H.264 MP4 made by ffmpeg's lavfi sources: synthetic footage for
 * tests, benchmarks and the demo, without downloading or committing videos.
 */
export async function synthesizeVideo(
  path: string,
  options: SynthesizeOptions,
  binaries: FfmpegBinaries,
): Promise<string> {
  const { durationS, width = 320, height = 240, fps = 25, source = 'testsrc2', preset = 'ultrafast' } = options;
  const sized = source.includes('=')
    ? `${source}:s=${width}x${height}:r=${fps}`
    : `${source}=s=${width}x${height}:r=${fps}`;
  const rotation = options.rotation ?? 0;
  const input = [sized, options.filters, CODED_FOR_ROTATION[rotation]].filter(Boolean).join(',');
  const encoded = rotation ? `${path}.coded.mp4` : path;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', input];
  if (options.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000');
  args.push(
    '-t',
    String(durationS),
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps * 2),
  );
  if (options.bitrate) {
    const rate = String(Math.round(options.bitrate));
    args.push('-b:v', rate, '-maxrate', rate, '-bufsize', String(Math.round(options.bitrate * 2)));
  }
  if (options.audio) args.push('-c:a', 'aac', '-shortest');
  if (options.faststart) args.push('-movflags', '+faststart');
  args.push(encoded);
  await run(binaries.ffmpeg, args, { maxBuffer: 16 * 1024 * 1024 });
  if (encoded !== path) {
    try {
      await setDisplayRotation(encoded, path, rotation, binaries, options.faststart);
    } finally {
      await rm(encoded, { force: true });
    }
  }
  return path;
}

/**
 * Copies a video (no re-encode) with a display rotation in its container, the
 * display matrix phones write: `rotation` degrees clockwise. ffmpeg 6 and later
 * take it as `-display_rotation` (counter-clockwise degrees); older ffmpeg (the
 * static build in @ffmpeg-installer, Debian 12's 5.1) only through the MP4
 * muxer's `rotate` tag, which it also reads as counter-clockwise degrees.
 */
export async function setDisplayRotation(
  source: string,
  target: string,
  rotation: DisplayRotation,
  binaries: FfmpegBinaries,
  faststart = false,
): Promise<string> {
  const counterClockwise = String((360 - rotation) % 360);
  const head = ['-hide_banner', '-loglevel', 'error', '-y'];
  const tail = ['-map', '0', '-c', 'copy', ...(faststart ? ['-movflags', '+faststart'] : [])];
  try {
    await run(binaries.ffmpeg, [...head, '-display_rotation', counterClockwise, '-i', source, ...tail, target]);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    if (!/Unrecognized option 'display_rotation'/.test(stderr)) throw error;
    await run(binaries.ffmpeg, [
      ...head,
      '-i',
      source,
      ...tail,
      '-metadata:s:v:0',
      `rotate=${counterClockwise}`,
      target,
    ]);
  }
  return target;
}

/** An M4A/MP4 file with only an audio stream. */
export async function synthesizeAudioOnly(path: string, durationS: number, binaries: FfmpegBinaries): Promise<string> {
  await run(binaries.ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000'],
    ...['-t', String(durationS), '-c:a', 'aac', '-f', 'mp4', path],
  ]);
  return path;
}

/** A text file under a video's name. */
export async function writeTextAsVideo(path: string): Promise<string> {
  await writeFile(path, 'This is not a video, only a text file with a .mp4 name.\n'.repeat(50));
  return path;
}

/** The first `fraction` of a file: a recording cut short. */
export async function truncateCopy(source: string, target: string, fraction: number): Promise<string> {
  const handle = await open(source, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.floor(size * fraction));
    await handle.read(buffer, 0, buffer.length, 0);
    await writeFile(target, buffer);
  } finally {
    await handle.close();
  }
  return target;
}
