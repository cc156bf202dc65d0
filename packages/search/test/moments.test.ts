import { describe, expect, it } from 'vitest';
import { findMoments, relativeScore, ScoreStatsAccumulator } from '../src/index.js';

const frames = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const pts = (n: number, step = 500) => Int32Array.from({ length: n }, (_, i) => i * step);
const stats = (scores: Float32Array, mask?: Uint8Array) => {
  const acc = new ScoreStatsAccumulator();
  acc.add(scores, mask);
  return acc.stats();
};

describe('findMoments', () => {
  it('merges the adjacent frames around a peak into one moment, down to half its relative score', () => {
    // A background of 0.20 ± a little; a match ramping up to 0.32 at frame 12 and down.
    const scores = Float32Array.from({ length: 40 }, (_, i) => 0.2 + ((i * 7) % 5) * 0.002);
    [0.24, 0.27, 0.3, 0.32, 0.31, 0.28, 0.22].forEach((s, k) => {
      scores[9 + k] = s;
    });
    const s = stats(scores);
    const [top, ...rest] = findMoments({ frames: frames(40), ptsMs: pts(40), scores, frameMs: 500 }, s, {
      minRelative: 1,
      maxMoments: 10,
    });
    const floor = relativeScore(0.32, s) / 2;
    expect(top).toMatchObject({ bestFrame: 12, bestMs: 6000 });
    expect(top?.score).toBeCloseTo(0.32, 5);
    // Every frame of the moment is above half the peak's relative score, and its neighbours are not.
    for (let i = top?.firstRow ?? 0; i <= (top?.lastRow ?? 0); i++) {
      expect(relativeScore(scores[i] as number, s)).toBeGreaterThanOrEqual(floor);
    }
    expect(relativeScore(scores[(top?.firstRow ?? 0) - 1] as number, s)).toBeLessThan(floor);
    expect(relativeScore(scores[(top?.lastRow ?? 0) + 1] as number, s)).toBeLessThan(floor);
    expect(top?.startMs).toBe((top?.firstRow ?? 0) * 500);
    expect(top?.endMs).toBe((top?.lastRow ?? 0) * 500 + 500);
    // Background frames are moments of their own, each ranked below.
    expect(rest.every((m) => m.frames === 1 && m.score < (top?.score ?? 0))).toBe(true);
    expect(rest).toHaveLength(9);
  });

  it('leaves masked frames out: a moment never crosses them', () => {
    const scores = new Float32Array(20).fill(0.1);
    for (let i = 5; i < 15; i++) scores[i] = 0.5;
    const mask = new Uint8Array(20).fill(1);
    mask[10] = 0;
    const moments = findMoments(
      { frames: frames(20), ptsMs: pts(20), scores, mask, frameMs: 500 },
      stats(scores, mask),
      {
        minRelative: 1,
        maxMoments: 2,
      },
    );
    expect(moments.map((m) => [m.firstRow, m.lastRow])).toEqual([
      [5, 9],
      [11, 14],
    ]);
  });

  it('finds the next moment past a long one that takes in more frames than it first looked at', () => {
    // 100 frames of one long match (more than the 72 best frames first looked at), then a shorter one.
    const scores = new Float32Array(1000).fill(0.1);
    for (let i = 0; i < 100; i++) scores[i] = 0.5 + (i % 3) * 0.001;
    for (let i = 300; i < 305; i++) scores[i] = 0.45;
    const s = stats(scores);
    const moments = findMoments({ frames: frames(1000), ptsMs: pts(1000), scores, frameMs: 500 }, s, {
      minRelative: 1,
      maxMoments: 2,
    });
    expect(moments.map((m) => [m.firstRow, m.lastRow])).toEqual([
      [0, 99],
      [300, 304],
    ]);
  });

  it('gives a camera whose scores do not vary relative scores of 0, and single-frame moments', () => {
    const scores = new Float32Array(5).fill(0.3);
    const s = stats(scores);
    expect(s.std).toBe(0);
    const moments = findMoments({ frames: frames(5), ptsMs: pts(5), scores, frameMs: 500 }, s, {
      minRelative: 1,
      maxMoments: 10,
    });
    expect(moments).toHaveLength(5);
    expect(moments.every((m) => m.relative === 0 && m.frames === 1)).toBe(true);
  });
});

describe('ScoreStatsAccumulator', () => {
  it('gives the mean and sample standard deviation over several adds', () => {
    const acc = new ScoreStatsAccumulator();
    acc.add(Float32Array.from([1, 2, 3]));
    acc.add(Float32Array.from([4, 100]), Uint8Array.from([1, 0]));
    const s = acc.stats();
    expect(s.frames).toBe(4);
    expect(s.mean).toBeCloseTo(2.5, 6);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 6);
  });
});
