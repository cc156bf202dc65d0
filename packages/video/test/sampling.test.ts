import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DecodedFrame,
  decodeFrames,
  type FfmpegBinaries,
  MotionGate,
  resolveFfmpegBinaries,
  resolveHwaccel,
} from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vad-sampling-'));
const binaries = resolveFfmpegBinaries();
const SIZE = 64;

async function collect(path: string, options: Parameters<typeof decodeFrames>[2]): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeFrames(path, binaries, options)) frames.push(frame);
  return frames;
}

/** Keyframe times (ms) as ffprobe reads them from the packets. */
async function keyframeTimes(path: string): Promise<number[]> {
  const { stdout } = await run(binaries.ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', path],
  ]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(','))
    .filter(([, flags]) => flags?.startsWith('K'))
    .map(([time]) => Math.round(Number(time) * 1000))
    .sort((a, b) => a - b);
}

/** 25 fps; keyframes at frames 0, 40, 65, 115, 140 …: irregular, as encoders with scene cuts write them. */
const irregular = join(dir, 'irregular.mp4');
/** A keyframe every 4 frames (0.16 s): more keyframes than the sampling rate asks for. */
const dense = join(dir, 'dense.mp4');

beforeAll(async () => {
  const source = ['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25:d=12', '-c:v', 'libx264', '-preset', 'ultrafast'];
  const forced = 'expr:eq(n,0)+eq(n,40)+eq(n,65)+eq(n,115)+eq(n,140)+eq(n,230)';
  await run(binaries.ffmpeg, [
    '-y',
    '-v',
    'error',
    ...source,
    '-g',
    '1000',
    '-sc_threshold',
    '0',
    '-force_key_frames',
    forced,
    irregular,
  ]);
  await run(binaries.ffmpeg, ['-y', '-v', 'error', ...source, '-g', '4', '-sc_threshold', '0', dense]);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keyframe sampling', () => {
  it('decodes the keyframes alone, each at its own presentation time', async () => {
    const frames = await collect(irregular, { sampleFps: 2, size: SIZE, select: 'keyframes' });
    expect(frames.map((f) => f.ptsMs)).toEqual(await keyframeTimes(irregular));
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 1600, 2600, 4600, 5600, 9200]);
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5]);
    // The pixels are the keyframes' own: the same as the grid decode's frame at that time.
    const grid = await collect(irregular, { sampleFps: 25, size: SIZE });
    for (const frame of frames) {
      const same = grid.find((g) => g.ptsMs === frame.ptsMs);
      expect(same?.rgb.equals(frame.rgb)).toBe(true);
    }
  });

  it('keeps no more keyframes than the sampling rate asks for', async () => {
    const all = await keyframeTimes(dense);
    const frames = await collect(dense, { sampleFps: 2, size: SIZE, select: 'keyframes' });
    expect(all.length).toBeGreaterThan(60);
    const times = frames.map((f) => f.ptsMs);
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(480);
    // Every 0.64 s: the first keyframe at least 0.5 s after the last one kept.
    expect(frames.length).toBe(19);
    for (const time of times) expect(all).toContain(time);
  });

  it('resumes by dropping the frames before the resume point', async () => {
    const frames = await collect(irregular, { sampleFps: 2, size: SIZE, select: 'keyframes', startIndex: 3 });
    expect(frames.map((f) => [f.index, f.ptsMs])).toEqual([
      [3, 4600],
      [4, 5600],
      [5, 9200],
    ]);
  });
});

describe('MotionGate', () => {
  const size = 224;
  const frame = (paint?: (x: number, y: number) => number | undefined) => {
    const rgb = Buffer.alloc(size * size * 3, 100);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const v = paint?.(x, y);
        if (v !== undefined) rgb.fill(v, (y * size + x) * 3, (y * size + x) * 3 + 3);
      }
    return rgb;
  };
  /** Per-pixel noise of ± `amplitude` grey levels, as a camera sensor's. */
  const noisy = (amplitude: number, seed: number) => {
    let state = seed;
    return frame(() => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return 100 + Math.round(((state % 1000) / 999 - 0.5) * 2 * amplitude);
    });
  };

  it('keeps the first frame, skips sensor noise, keeps a small object and a change of light', () => {
    const gate = new MotionGate(size, { threshold: 12, minArea: 0.002 });
    expect(gate.check(noisy(10, 1)).keep).toBe(true);
    for (let i = 2; i < 12; i++) expect(gate.check(noisy(10, i)).keep).toBe(false);
    // A person far away: 8 × 16 px of 224 × 224 (0.26 % of the picture), much darker than the floor.
    const person = frame((x, y) => (x >= 100 && x < 108 && y >= 60 && y < 76 ? 20 : undefined));
    expect(gate.check(person).keep).toBe(true);
    // It stays: nothing new.
    expect(gate.check(person).keep).toBe(false);
    // Light fades by 1 grey level a frame: nothing at first, kept once the change adds up past the threshold.
    const kept: boolean[] = [];
    for (let step = 1; step <= 20; step++)
      kept.push(gate.check(frame((x, y) => (x >= 100 && x < 108 && y >= 60 && y < 76 ? 20 : 100 - step))).keep);
    expect(kept.slice(0, 12).some(Boolean)).toBe(false);
    expect(kept.includes(true)).toBe(true);
  });

  it('keeps a change of colour at the same brightness (a fire-like glow on a grey wall)', () => {
    const gate = new MotionGate(size, { threshold: 12, minArea: 0.002 });
    const grey = Buffer.alloc(size * size * 3, 128);
    const glow = Buffer.alloc(size * size * 3);
    for (let p = 0; p < glow.length; p += 3) glow.set([255, 68, 0], p); // luma 116.5: within 12 of the grey's
    expect(gate.check(grey).keep).toBe(true);
    expect(gate.check(glow).keep).toBe(true);
  });

  it('keeps every frame after a reset first', () => {
    const gate = new MotionGate(size, { threshold: 12, minArea: 0.002 });
    const still = frame();
    expect(gate.check(still).keep).toBe(true);
    expect(gate.check(still).keep).toBe(false);
    gate.reset();
    expect(gate.check(still).keep).toBe(true);
  });

  it('refuses frames of the wrong size', () => {
    const gate = new MotionGate(size, { threshold: 12, minArea: 0.002 });
    expect(() => gate.check(Buffer.alloc(10))).toThrow(/expected 150528 bytes/);
  });
});

describe('resolveHwaccel', () => {
  it('decodes in software when not asked for the GPU', async () => {
    expect(await resolveHwaccel(binaries, 'none')).toEqual({ hwaccel: undefined });
  });

  it('falls back to software, saying why, when this ffmpeg or machine cannot decode with CUDA', async () => {
    const fake: FfmpegBinaries = { ...binaries, ffmpeg: '/bin/false' };
    const resolved = await resolveHwaccel(fake, 'cuda');
    expect(resolved.hwaccel).toBeUndefined();
    expect(resolved.fallback).toMatch(/^VAD_HWACCEL=cuda: .*; decoding on the CPU$/);
    // The real binary: on a machine without NVIDIA's driver (CI) it falls back too; with one it decodes.
    const real = await resolveHwaccel(binaries, 'cuda');
    if (real.hwaccel === 'cuda') {
      const frames = await collect(irregular, { sampleFps: 2, size: SIZE, hwaccel: 'cuda' });
      expect(frames.length).toBeGreaterThan(20);
    } else expect(real.fallback).toMatch(/VAD_HWACCEL=cuda: /);
  });
});
