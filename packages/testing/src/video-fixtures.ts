import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DisplayRotation, SynthesizeOptions } from '@vad/video';
import * as video from '@vad/video';
import { muxDhav, splitAccessUnits } from './dhav-writer.js';

export type GeneratedVideoOptions = SynthesizeOptions;
export type { DisplayRotation };

const binaries = () => video.resolveFfmpegBinaries();

/**
 * A synthetic H.264 MP4 (ffmpeg lavfi sources), with the binaries vad itself would use.
 * `rotation: 90` gives phone-like footage: coded sideways, displayed upright at `width`×`height`.
 */
export function generateVideo(path: string, options: GeneratedVideoOptions): Promise<string> {
  return video.synthesizeVideo(path, options, binaries());
}

/**
 * A plain grey scene with a fire-like full-frame orange-red light between
 * `from` and `to` seconds: the incident the synthetic test model finds (it
 * tells colours apart), with a known interval to score against.
 */
export function generateIncidentVideo(
  path: string,
  { durationS, from, to }: { durationS: number; from: number; to: number },
): Promise<string> {
  return generateVideo(path, {
    durationS,
    source: 'color=c=gray',
    filters: `drawbox=x=0:y=0:w=iw:h=ih:color=orangered:t=fill:enable='between(t,${from},${to})'`,
  });
}

export function generateAudioOnly(path: string, durationS: number): Promise<string> {
  return video.synthesizeAudioOnly(path, durationS, binaries());
}

/** A copy of `source` (no re-encode) whose container says to display it turned `rotation` degrees clockwise. */
export function generateRotatedCopy(source: string, target: string, rotation: DisplayRotation): Promise<string> {
  return video.setDisplayRotation(source, target, rotation, binaries());
}

export const { truncateCopy, writeTextAsVideo } = video;

const run = promisify(execFile);

const HEVC_ARGS = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-f', 'hevc'];

/** What a file of each extension holds: ffmpeg's output options for it (after the H.264 MP4 it is made from). */
const RECIPES: Record<string, { args: string[]; what: string }> = {
  '.mp4': { args: ['-c', 'copy'], what: 'H.264 in MP4' },
  '.m4v': { args: ['-c', 'copy', '-f', 'ipod'], what: 'H.264 in M4V (iPod MP4)' },
  '.mov': { args: ['-c', 'copy', '-f', 'mov'], what: 'H.264 in QuickTime' },
  '.mkv': { args: ['-c', 'copy', '-f', 'matroska'], what: 'H.264 in Matroska' },
  // MPEG-4 Part 2 (Xvid/DivX), AVI's own codec: H.264 copied into AVI gets a doubled frame rate there.
  '.avi': { args: ['-c:v', 'mpeg4', '-q:v', '4', '-f', 'avi'], what: 'MPEG-4 Part 2 in AVI' },
  '.webm': {
    args: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-f', 'webm'],
    what: 'VP8 in WebM',
  },
  '.ts': { args: ['-c', 'copy', '-f', 'mpegts'], what: 'H.264 in MPEG-TS (188-byte packets)' },
  '.mts': { args: ['-c', 'copy', '-f', 'mpegts'], what: 'H.264 in MPEG-TS (AVCHD name)' },
  '.m2ts': {
    args: ['-c', 'copy', '-f', 'mpegts', '-mpegts_m2ts_mode', '1'],
    what: 'H.264 in BDAV MPEG-TS (192-byte packets)',
  },
  '.mpg': { args: ['-c:v', 'mpeg2video', '-q:v', '4', '-f', 'mpeg'], what: 'MPEG-2 video in MPEG-PS' },
  '.mpeg': { args: ['-c:v', 'mpeg2video', '-q:v', '4', '-f', 'mpeg'], what: 'MPEG-2 video in MPEG-PS' },
  '.flv': { args: ['-c', 'copy', '-f', 'flv'], what: 'H.264 in FLV' },
  '.wmv': { args: ['-c:v', 'wmv2', '-q:v', '4', '-f', 'asf'], what: 'WMV 8 in ASF' },
  '.3gp': { args: ['-c', 'copy', '-f', '3gp'], what: 'H.264 in 3GP' },
  '.h264': {
    args: ['-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264'],
    what: 'raw H.264 (Annex B, no container, no timestamps)',
  },
  '.h265': { args: HEVC_ARGS, what: 'raw H.265 (Annex B, no container, no timestamps)' },
  '.hevc': { args: HEVC_ARGS, what: 'raw H.265 (Annex B, no container, no timestamps)' },
  '.dav': {
    args: ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264'],
    what: 'H.264 in Dahua DHAV (written by dhav-writer: ffmpeg has no DHAV muxer)',
  },
};

/** The extensions `generateVideoWithExtension` makes, each with what its file holds. */
export const GENERATED_EXTENSIONS: ReadonlyMap<string, string> = new Map(
  Object.entries(RECIPES).map(([ext, { what }]) => [ext, what]),
);

export type ExtensionVideoOptions = Pick<
  SynthesizeOptions,
  'durationS' | 'width' | 'height' | 'fps' | 'source' | 'filters'
> & {
  /** File name without the extension; default `sample`. */
  name?: string;
};

/**
 * A synthetic video at `dir/<name><ext>` (`dir` is created if need be) in
 * the format a recorder writes under that extension (see
 * `GENERATED_EXTENSIONS`), for every extension vad accepts, made with the
 * binaries vad itself would use: generated as `generateVideo`'s H.264 MP4,
 * then remuxed (no re-encode) or, for another codec, re-encoded. `.dav`
 * (Dahua DHAV, which ffmpeg reads but cannot write) is an H.264 stream
 * wrapped in DHAV frames by `muxDhav`: no B-frames (DHAV packets carry decode
 * order and one timestamp) and a whole number of frames per second.
 */
export async function generateVideoWithExtension(
  dir: string,
  ext: string,
  options: ExtensionVideoOptions,
): Promise<string> {
  const extension = ext.startsWith('.') ? ext.toLowerCase() : `.${ext.toLowerCase()}`;
  const recipe = RECIPES[extension];
  if (!recipe) throw new Error(`no generator for ${ext}: one of ${[...GENERATED_EXTENSIONS.keys()].join(' ')}`);
  const { name = 'sample', ...synthesize } = options;
  const target = join(dir, `${name}${extension}`);
  const source = join(dir, `${name}${extension.replace('.', '-')}.source.mp4`);
  const { ffmpeg } = binaries();
  await mkdir(dir, { recursive: true });
  try {
    if (extension === '.mp4') return await generateVideo(target, synthesize);
    await generateVideo(source, synthesize);
    const head = ['-hide_banner', '-loglevel', 'error', '-y', '-i', source, '-map', '0:v:0'];
    if (extension !== '.dav') {
      await run(ffmpeg, [...head, ...recipe.args, target]);
      return target;
    }
    // The H.264 stream for the DHAV frames: no B-frames, a key frame every 2 s, as cameras write.
    const fps = synthesize.fps ?? 25;
    const { stdout } = await run(ffmpeg, [...head, ...recipe.args, '-g', String(fps * 2), 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 256 << 20,
    });
    const units = splitAccessUnits(stdout, 'h264');
    const width = synthesize.width ?? 320;
    const height = synthesize.height ?? 240;
    await writeFile(target, muxDhav(units, { width, height, fps, codec: 'h264' }));
    return target;
  } finally {
    await rm(source, { force: true });
  }
}
