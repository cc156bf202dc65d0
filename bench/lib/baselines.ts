import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { imageTensor, pixelFormat } from '@vad/clip';
import { type FfmpegBinaries, frameFilter, keyframeFilter } from '@vad/video';
import type * as ort from 'onnxruntime-node';

/**
 * The limits the benchmarks measure vad against, shared so that every
 * benchmark compares with the same thing.
 */

/** Seconds ffmpeg takes to run with these arguments, its frames written to nowhere. */
async function ffmpegSeconds(binaries: FfmpegBinaries, args: string[]): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binaries.ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args]);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`))));
  });
  return (performance.now() - started) / 1000;
}

/** Seconds plain ffmpeg takes to decode the file with vad's sampling/resize/crop filter, output to nowhere. */
export function plainDecodeSeconds(
  path: string,
  sampleFps: number,
  size: number,
  binaries: FfmpegBinaries,
): Promise<number> {
  const filter = frameFilter(sampleFps, size).replace(',showinfo', '');
  return ffmpegSeconds(binaries, ['-i', path, '-an', '-vf', filter, '-pix_fmt', 'rgb24', '-f', 'null', '-']);
}

/** Seconds plain ffmpeg takes to decode the file's keyframes alone (keyframe sampling's decode), output to nowhere. */
export function plainKeyframeDecodeSeconds(
  path: string,
  sampleFps: number,
  size: number,
  binaries: FfmpegBinaries,
): Promise<number> {
  const filter = keyframeFilter(sampleFps, size).replace(',showinfo', '');
  return ffmpegSeconds(binaries, [
    ...['-skip_frame', 'nokey', '-i', path, '-an', '-vf', filter],
    ...['-vsync', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'null', '-'],
  ]);
}

export interface BareInference {
  session: ort.InferenceSession;
  input: string;
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Frames/s of bare `session.run` on one batch ready to run (normalised, or bytes for a uint8 model), back to back after a warm-up. */
export async function bareInferenceFps(model: BareInference, batch: number, frames: number): Promise<number> {
  const { session, input, size } = model;
  const pixels = randomBytes(batch * size * size * 3);
  const tensor = imageTensor(pixelFormat(session, input), pixels, batch, size, model.mean, model.std);
  await session.run({ [input]: tensor }); // warm-up
  const runs = Math.max(1, Math.round(frames / batch));
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run({ [input]: tensor });
  return (runs * batch) / ((performance.now() - started) / 1000);
}
