import { describe, expect, it } from 'vitest';
import { cutClips } from '../src/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`);

describe('cutClips', () => {
  it('pads a video shorter than one clip by repeating its own frames in order', () => {
    const clips = cutClips(range(3), 8, 4);
    expect(clips).toHaveLength(1);
    expect(clips[0]?.frames).toEqual(['f0', 'f1', 'f2', 'f0', 'f1', 'f2', 'f0', 'f1']);
    expect(clips[0]?.validFrames).toBe(3);
  });

  it('repeats a single frame to fill the clip', () => {
    const clips = cutClips(['only'], 4, 2);
    expect(clips).toEqual([
      { index: 0, start: 0, frames: ['only', 'only', 'only', 'only'], positions: [0, 0, 0, 0], validFrames: 1 },
    ]);
  });

  it('returns no clip for no frames', () => {
    expect(cutClips([], 16, 8)).toEqual([]);
  });

  it('cuts an exact multiple into full clips only', () => {
    const clips = cutClips(range(32), 16, 16);
    expect(clips.map((c) => [c.start, c.validFrames])).toEqual([
      [0, 16],
      [16, 16],
    ]);
    expect(clips[1]?.frames).toEqual(range(32).slice(16));
  });

  it('overlaps clips when the stride is smaller than the clip', () => {
    const clips = cutClips(range(32), 16, 8);
    expect(clips.map((c) => [c.start, c.validFrames])).toEqual([
      [0, 16],
      [8, 16],
      [16, 16],
    ]);
  });

  it('pads the tail clip with its own frames', () => {
    const clips = cutClips(range(20), 8, 8);
    expect(clips.map((c) => [c.start, c.validFrames])).toEqual([
      [0, 8],
      [8, 8],
      [16, 4],
    ]);
    expect(clips[2]?.frames).toEqual(['f16', 'f17', 'f18', 'f19', 'f16', 'f17', 'f18', 'f19']);
  });

  it('stops at the first clip that reaches the end (no redundant tail)', () => {
    const clips = cutClips(range(20), 16, 8);
    expect(clips.map((c) => [c.start, c.validFrames])).toEqual([
      [0, 16],
      [8, 12],
    ]);
  });

  it('rejects a stride longer than the clip or non-positive sizes', () => {
    expect(() => cutClips(range(4), 4, 5)).toThrow(RangeError);
    expect(() => cutClips(range(4), 0, 1)).toThrow(RangeError);
  });

  it('holds its invariants for every length, clip size and stride (exhaustive small cases)', () => {
    const violations: string[] = [];
    for (let n = 1; n <= 40; n++) {
      for (let size = 1; size <= 12; size++) {
        for (let stride = 1; stride <= size; stride++) {
          const clips = cutClips(range(n), size, stride);
          const covered = new Set<number>();
          const where = `n=${n} size=${size} stride=${stride}`;
          for (const [i, clip] of clips.entries()) {
            if (clip.index !== i || clip.frames.length !== size) violations.push(`${where}: clip ${i} shape`);
            // Padding never invents frames: every position lies inside the clip's own valid frames.
            for (const [k, p] of clip.positions.entries()) {
              if (p < clip.start || p >= clip.start + clip.validFrames) violations.push(`${where}: outside frame ${p}`);
              if (clip.frames[k] !== `f${p}`) violations.push(`${where}: frame/position mismatch`);
              covered.add(p);
            }
            // The valid frames come first, in order, then repeat in order.
            for (let k = 0; k < size; k++) {
              if (clip.positions[k] !== clip.start + (k % clip.validFrames)) violations.push(`${where}: order at ${k}`);
            }
            // Only the last clip may be short.
            if (i < clips.length - 1 && clip.validFrames !== size) violations.push(`${where}: short clip ${i}`);
          }
          if (covered.size !== n) violations.push(`${where}: ${n - covered.size} frames in no clip`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
