import { describe, expect, it } from 'vitest';
import { cutClips, cutTimedClips, frameDurationMs } from '../src/index.js';

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

describe('cutTimedClips', () => {
  const at = (...times: number[]) => times.map((ptsMs, i) => ({ i, ptsMs }));

  it('cuts grid frames by count, each clip with its time span', () => {
    const frames = at(...Array.from({ length: 20 }, (_, i) => i * 500));
    const clips = cutTimedClips(frames, { clipFrames: 8, clipStride: 4, sampleFps: 2, sampling: 'motion' });
    expect(clips.map((c) => [c.startMs, c.endMs, c.validFrames])).toEqual([
      [0, 4000, 8],
      [2000, 6000, 8],
      [4000, 8000, 8],
      [6000, 10_000, 8],
    ]);
    expect(clips).toEqual(
      cutClips(frames, 8, 4).map((c) =>
        expect.objectContaining({ positions: c.positions, validFrames: c.validFrames }),
      ),
    );
  });

  it('cuts keyframes by time: each clip holds the frames of its span, padded by repeating them', () => {
    // Keyframes every 2 s, one late (scene cut at 9.2 s), a gap of 10 s with none.
    const frames = at(0, 2000, 4000, 6000, 8000, 9200, 10_000, 20_000, 22_000);
    const timing = { clipFrames: 16, clipStride: 8, sampleFps: 2, sampling: 'keyframes' } as const;
    const clips = cutTimedClips(frames, timing);
    expect(
      clips.map((c) => [c.startMs, c.endMs, c.validFrames, c.frames.slice(0, c.validFrames).map((f) => f.ptsMs)]),
    ).toEqual([
      [0, 8000, 4, [0, 2000, 4000, 6000]],
      [4000, 12_000, 5, [4000, 6000, 8000, 9200, 10_000]],
      [8000, 16_000, 3, [8000, 9200, 10_000]],
      // 12–20 s holds no keyframe: no clip.
      [16_000, 24_000, 2, [20_000, 22_000]],
    ]);
    for (const clip of clips) {
      expect(clip.frames).toHaveLength(16);
      // Padding repeats the clip's own frames, in order.
      expect(clip.frames.map((f) => f.ptsMs)).toEqual(
        Array.from({ length: 16 }, (_, i) => clip.frames[i % clip.validFrames]?.ptsMs),
      );
      expect(clip.positions.map((p) => frames[p]?.ptsMs)).toEqual(clip.frames.map((f) => f.ptsMs));
    }
    expect(clips.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    // The video ends a keyframe interval (the median spacing, 2 s) after its last keyframe.
    expect(frameDurationMs(frames, timing)).toBe(2000);
  });

  it('thins a span holding more frames than a clip evenly, and covers a single frame', () => {
    const frames = at(...Array.from({ length: 10 }, (_, i) => i * 100));
    const clips = cutTimedClips(frames, { clipFrames: 4, clipStride: 4, sampleFps: 2, sampling: 'keyframes' });
    expect(clips).toHaveLength(1);
    expect(clips[0]?.frames.map((f) => f.ptsMs)).toEqual([0, 200, 500, 700]);
    const single = cutTimedClips(at(0), { clipFrames: 4, clipStride: 2, sampleFps: 2, sampling: 'keyframes' });
    expect(single.map((c) => [c.startMs, c.endMs, c.validFrames])).toEqual([[0, 500, 1]]);
  });
});
