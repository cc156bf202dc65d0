import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FfmpegBinaries } from './binaries.js';

const execFileAsync = promisify(execFile);

/** `none`: decode on the CPU. `cuda`: decode on an NVIDIA GPU (NVDEC) where ffmpeg can, else on the CPU. */
export type HwaccelSetting = 'none' | 'cuda';

export interface ResolvedHwaccel {
  /** What decodes should pass to `decodeFrames`: undefined = software decoding. */
  hwaccel: 'cuda' | undefined;
  /** Why `cuda` was asked for and is not used: to log as a warning. */
  fallback?: string;
}

const checked = new Map<string, Promise<ResolvedHwaccel>>();

/**
 * Whether this ffmpeg can decode with `-hwaccel cuda` on this machine: it
 * must list `cuda` among its hwaccels (a build with NVDEC, e.g. a distribution's
 * ffmpeg or one built with --enable-cuda / nv-codec-headers) and open a CUDA
 * device (a driver and a GPU). Checked once per binary; otherwise it falls
 * back to software decoding, with the reason to warn about. Codecs NVDEC
 * cannot decode (MJPEG, 4:2:2 H.264, …) are decoded in software by ffmpeg
 * itself even with the flag.
 */
export function resolveHwaccel(binaries: FfmpegBinaries, setting: HwaccelSetting): Promise<ResolvedHwaccel> {
  if (setting === 'none') return Promise.resolve({ hwaccel: undefined });
  let result = checked.get(binaries.ffmpeg);
  if (!result) {
    result = checkCuda(binaries.ffmpeg);
    checked.set(binaries.ffmpeg, result);
  }
  return result;
}

async function checkCuda(ffmpeg: string): Promise<ResolvedHwaccel> {
  const fallback = (reason: string): ResolvedHwaccel => ({
    hwaccel: undefined,
    fallback: `VAD_HWACCEL=cuda: ${reason}; decoding on the CPU`,
  });
  try {
    const { stdout } = await execFileAsync(ffmpeg, ['-hide_banner', '-hwaccels'], { timeout: 10_000 });
    const methods = stdout
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .filter(Boolean);
    if (!methods.includes('cuda')) {
      return fallback(`this ffmpeg (${ffmpeg}) has no cuda hwaccel (it has: ${methods.join(', ') || 'none'})`);
    }
  } catch (error) {
    return fallback(`could not ask ffmpeg for its hwaccels: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    const args = ['-hide_banner', '-loglevel', 'error', '-init_hw_device', 'cuda=vad'];
    await execFileAsync(
      ffmpeg,
      [...args, '-f', 'lavfi', '-i', 'nullsrc=s=64x64', '-frames:v', '1', '-f', 'null', '-'],
      {
        timeout: 30_000,
      },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').at(-1);
    return fallback(`no CUDA device could be opened (${stderr || (error as Error).message.split('\n')[0]})`);
  }
  return { hwaccel: 'cuda' };
}
