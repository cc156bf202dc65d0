import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpegBinaries } from '@vad/video';
import { CACHE_DIR } from './bench-video.js';

const run = promisify(execFile);

/** The two kinds of camera footage the capacity benchmark measures. */
export type SceneKind = 'still' | 'busy';

export interface CameraFootage {
  path: string;
  kind: SceneKind;
  durationS: number;
  /** Seconds between keyframes, as encoded (a fixed GOP, no scene-cut keyframes). */
  keyframeIntervalS: number;
  /** Share of the time something moves in the picture. */
  activeShare: number;
  /** Intervals (s) with activity, for the still scene. */
  activity: [number, number][];
  describe: string;
}

/** The period of the still scene's activity: someone crosses the picture for ACTIVE_S of every PERIOD_S seconds. */
const PERIOD_S = 100;
const ACTIVE_S = 5;
const FPS = 25;
const GOP_S = 2;

/** The lavfi graph of each scene, 1080p25. */
const SCENES: Record<SceneKind, string> = {
  // A fixed textured background (one frame of blurred spatial noise, looped: ground and walls, not a
  // random dot pattern an encoder cannot compress) with light sensor noise, and a dark
  // figure walking across it for 5 s of every 100 s.
  still:
    `color=c=0x5a6e4b:s=1920x1080:r=${FPS},noise=alls=60:allf=u,boxblur=2:1,format=yuv420p[noisy];` +
    `[noisy]trim=end_frame=1,loop=loop=-1:size=1:start=0,setpts=N/${FPS}/TB[bg];` +
    `color=c=0x202020:s=140x320:r=${FPS}[figure];` +
    `[bg][figure]overlay=x='mod(t*420\\,2100)-140':y=640:enable='lt(mod(t\\,${PERIOD_S})\\,${ACTIVE_S})',` +
    'noise=alls=4:allf=t+u[v]',
  // Motion everywhere, all the time: the moving test pattern with sensor noise.
  busy: `testsrc2=s=1920x1080:r=${FPS},noise=alls=6:allf=t+u[v]`,
};

/**
 * Camera-like 1080p25 H.264 (x264 veryfast, capped VBR at 4 Mbit/s as IP
 * cameras' VBR mode, a keyframe every 2 s exactly), generated once per kind
 * as a 100 s chunk and repeated by stream copy to `durationS`, cached in
 * bench/.cache.
 */
export async function cameraFootage(kind: SceneKind, durationS: number): Promise<CameraFootage> {
  const binaries = resolveFfmpegBinaries();
  await mkdir(CACHE_DIR, { recursive: true });
  const name = (d: number) => join(CACHE_DIR, `camera-${kind}-v2-1080p${FPS}-gop${GOP_S}s-${d}s.mp4`);
  const chunkS = Math.min(durationS, PERIOD_S);
  const chunk = name(chunkS);
  if (!existsSync(chunk)) {
    const tmp = `${chunk}.tmp.mp4`;
    await run(binaries.ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', SCENES[kind], '-map', '[v]'],
      ...['-t', String(chunkS), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
      ...['-g', String(FPS * GOP_S), '-keyint_min', String(FPS * GOP_S), '-sc_threshold', '0'],
      ...['-crf', '23', '-maxrate', '4M', '-bufsize', '8M', tmp],
    ]);
    await rename(tmp, chunk);
  }
  let path = chunk;
  if (durationS > chunkS) {
    path = name(durationS);
    if (!existsSync(path)) {
      const tmp = `${path}.tmp.mp4`;
      await run(binaries.ffmpeg, [
        ...['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(Math.ceil(durationS / chunkS) - 1)],
        ...['-i', chunk, '-t', String(durationS), '-c', 'copy', tmp],
      ]);
      await rename(tmp, path);
    }
  }
  const activity: [number, number][] = [];
  if (kind === 'still')
    for (let t = 0; t < durationS; t += PERIOD_S) activity.push([t, Math.min(t + ACTIVE_S, durationS)]);
  return {
    path,
    kind,
    durationS,
    keyframeIntervalS: GOP_S,
    activeShare: kind === 'still' ? ACTIVE_S / PERIOD_S : 1,
    activity,
    describe:
      kind === 'still'
        ? `still scene, a figure crossing for ${ACTIVE_S} s of every ${PERIOD_S} s (${(100 * ACTIVE_S) / PERIOD_S} % of the time)`
        : 'busy scene, motion everywhere all the time',
  };
}

export interface IncidentFootage {
  path: string;
  durationS: number;
  incident: [number, number];
  describe: string;
}

/**
 * The quality guard's video: the still scene at 640×360 (a keyframe every
 * 2 s) with its figure crossing, and a fire-like orange-red light over the
 * whole picture from 40 to 52 s — the incident vad-test-tiny finds.
 */
export async function incidentFootage(): Promise<IncidentFootage> {
  const binaries = resolveFfmpegBinaries();
  await mkdir(CACHE_DIR, { recursive: true });
  const durationS = 120;
  const incident: [number, number] = [40, 52];
  const path = join(CACHE_DIR, `camera-incident-360p${FPS}-gop${GOP_S}s-${durationS}s.mp4`);
  if (!existsSync(path)) {
    const graph = SCENES.still
      .replace('1920x1080', '640x360')
      .replace('140x320', '48x106')
      .replace('y=640', 'y=212')
      .replace(
        '[v]',
        `,drawbox=x=0:y=0:w=iw:h=ih:color=orangered:t=fill:enable='between(t\\,${incident[0]}\\,${incident[1]})'[v]`,
      );
    const tmp = `${path}.tmp.mp4`;
    await run(binaries.ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-filter_complex', graph, '-map', '[v]'],
      ...['-t', String(durationS), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
      ...['-g', String(FPS * GOP_S), '-keyint_min', String(FPS * GOP_S), '-sc_threshold', '0', '-crf', '23', tmp],
    ]);
    await rename(tmp, path);
  }
  return {
    path,
    durationS,
    incident,
    describe: `${durationS} s of the still scene at 640×360 with an orange-red light from ${incident[0]} to ${incident[1]} s`,
  };
}
