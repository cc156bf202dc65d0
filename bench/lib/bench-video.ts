import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpegBinaries, synthesizeVideo } from '@vad/video';

const run = promisify(execFile);
export const CACHE_DIR = join(import.meta.dirname, '..', '.cache');

export interface BenchVideoSpec {
  width: number;
  height: number;
  fps: number;
  durationS: number;
}

/**
 * A camera-like H.264 file (moving test pattern with sensor noise, 4 Mbit/s
 * at 1080p, CABAC, a keyframe every 2 s), generated once and cached in
 * bench/.cache. Long files are a generated minute repeated by stream copy, so
 * a 10-minute 1080p video takes seconds to make, not minutes.
 */
export async function benchVideo(spec: BenchVideoSpec): Promise<string> {
  const binaries = resolveFfmpegBinaries();
  await mkdir(CACHE_DIR, { recursive: true });
  const name = (d: number) => join(CACHE_DIR, `pattern-${spec.width}x${spec.height}p${spec.fps}-${d}s.mp4`);
  const chunkS = Math.min(spec.durationS, 60);
  const chunk = name(chunkS);
  const bitrate = Math.round((4_000_000 * spec.width * spec.height) / (1920 * 1080));
  if (!existsSync(chunk)) {
    const tmp = `${chunk}.tmp.mp4`;
    await synthesizeVideo(
      tmp,
      { ...spec, durationS: chunkS, filters: 'noise=alls=6:allf=t+u', preset: 'veryfast', bitrate },
      binaries,
    );
    await rename(tmp, chunk);
  }
  if (spec.durationS <= chunkS) return chunk;
  const target = name(spec.durationS);
  if (!existsSync(target)) {
    const loops = Math.ceil(spec.durationS / chunkS) - 1;
    const tmp = `${target}.tmp.mp4`;
    await run(binaries.ffmpeg, [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', String(loops), '-i', chunk],
      ...['-t', String(spec.durationS), '-c', 'copy', tmp],
    ]);
    await rename(tmp, target);
  }
  return target;
}
