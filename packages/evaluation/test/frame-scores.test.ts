import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  type ClipSeries,
  expandClipScores,
  type FrameRange,
  frameAtMs,
  frameCountOf,
  frameLabels,
  frameRuns,
  groundTruthFrames,
  groundTruthSpans,
  rocAuc,
  SampleBuffer,
} from '../src/index.js';

const series = (clips: [number, number, number][]): ClipSeries => ({
  startMs: clips.map((c) => c[0]),
  endMs: clips.map((c) => c[1]),
  scores: clips.map((c) => c[2]),
});

/**
 * The rule, frame by frame: frame i gets the highest score of the clips
 * whose span holds its time; uncovered frames hold the last covered
 * frame's score, leading ones take the first covered frame's. O(frames × clips).
 */
function oracle(clips: ClipSeries, fps: number, frameCount: number): number[] {
  const out: (number | undefined)[] = [];
  for (let i = 0; i < frameCount; i++) {
    let best: number | undefined;
    for (let c = 0; c < clips.scores.length; c++) {
      const inside = frameAtMs(clips.startMs[c] as number, fps) <= i && i < frameAtMs(clips.endMs[c] as number, fps);
      if (inside) best = Math.max(best ?? Number.NEGATIVE_INFINITY, clips.scores[c] as number);
    }
    out.push(best ?? out.at(-1));
  }
  const first = out.find((s) => s !== undefined) ?? (clips.scores[clips.scores.length - 1] as number);
  return out.map((s) => s ?? first);
}

describe('clip scores on native frames', () => {
  it('frame counts and frame times', () => {
    expect(frameCountOf(1000, 10)).toBe(10);
    expect(frameCountOf(4004, 29.97)).toBe(120);
    expect(frameAtMs(0, 30)).toBe(0);
    expect(frameAtMs(1000, 30)).toBe(30); // exactly frame 30's time
    expect(frameAtMs(1001, 30)).toBe(31);
    expect(frameAtMs(100, 29.97)).toBe(3); // 2.997 → the first frame at or after 100 ms
  });

  it('by hand: overlapping clips give their maximum; frames after the last clip keep its score', () => {
    // 10 fps, 1 s: frames at 0, 100, …, 900 ms. Clips of 400 ms every 200 ms; the video goes on after the last.
    const clips = series([
      [0, 400, 0.2],
      [200, 600, 0.8],
      [400, 800, 0.5],
    ]);
    expect([...expandClipScores(clips, 10, 10)]).toEqual([0.2, 0.2, 0.8, 0.8, 0.8, 0.8, 0.5, 0.5, 0.5, 0.5]);
  });

  it('a picture that starts late: frames before the first clip take its score', () => {
    const clips = series([
      [300, 600, 0.4],
      [600, 1000, 0.9],
    ]);
    expect([...expandClipScores(clips, 10, 10)]).toEqual([0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.9, 0.9, 0.9, 0.9]);
  });

  it('runs carry score, label and frame count, merging equal neighbours', () => {
    const clips = series([
      [0, 500, 0.3],
      [500, 1000, 0.3],
    ]);
    const runs: [number, number, number][] = [];
    frameRuns(clips, [{ start: 3, end: 7 }], 10, 10, { push: (s, l, n) => runs.push([s, l, n]) });
    expect(runs).toEqual([
      [0.3, 0, 3],
      [0.3, 1, 4],
      [0.3, 0, 3],
    ]);
  });

  it('ground truth: frames at the video rate are start ≤ i < end; seconds and other rates by time', () => {
    // Frame numbers at the native rate, clipped to the video; overlapping intervals merge.
    expect(
      groundTruthFrames(
        [
          { start: 3, end: 5, unit: 'frame' },
          { start: 4, end: 8, unit: 'frame' },
          { start: 9, end: 40, unit: 'frame' },
        ],
        10,
        12,
      ),
    ).toEqual([
      { start: 3, end: 8 },
      { start: 9, end: 12 },
    ]);
    // Seconds [0.25, 0.55) at 10 fps: frames at 300, 400, 500 ms.
    expect(groundTruthFrames([{ start: 0.25, end: 0.55, unit: 's' }], 10, 10)).toEqual([{ start: 3, end: 6 }]);
    // XD-Violence frames 24..48 at 24 fps = 1 s..2 s = frames 30..60 of a 30 fps video; at 24 fps as they are.
    expect(groundTruthFrames([{ start: 24, end: 48, unit: 'frame', fps: 24 }], 30, 90)).toEqual([
      { start: 30, end: 60 },
    ]);
    expect(groundTruthFrames([{ start: 24, end: 48, unit: 'frame', fps: 24 }], 24, 90)).toEqual([
      { start: 24, end: 48 },
    ]);
    expect(
      groundTruthSpans(
        [
          { start: 24, end: 48, unit: 'frame', fps: 24 },
          { start: 1.5, end: 9, unit: 's' },
        ],
        30,
        5000,
      ),
    ).toEqual([{ startMs: 1000, endMs: 5000 }]);
    expect([...frameLabels([{ start: 1, end: 3 }], 5)]).toEqual([0, 1, 1, 0, 0]);
  });

  it('equals expanding every frame, on random videos (overlaps, gaps, odd frame rates), metrics included', () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 60; round++) {
      const fps = [10, 24, 25, 29.97, 30][round % 5] as number;
      const durationMs = 2000 + Math.floor(random() * 20_000);
      const frameCount = frameCountOf(durationMs, fps);
      const clipMs = 500 + Math.floor(random() * 3000);
      const strideMs = Math.max(100, Math.floor(clipMs * (0.25 + random() * 1.2))); // overlaps and gaps
      const clips: [number, number, number][] = [];
      for (let start = Math.floor(random() * 800); start < durationMs - 200; start += strideMs) {
        clips.push([
          start,
          Math.min(start + clipMs, durationMs - Math.floor(random() * 300)),
          Math.round(random() * 10) / 10,
        ]);
      }
      if (!clips.length) continue;
      const truth: FrameRange[] = [];
      for (
        let start = Math.floor(random() * frameCount);
        start < frameCount;
        start += 1 + Math.floor(random() * frameCount)
      ) {
        truth.push({ start, end: Math.min(frameCount, start + 1 + Math.floor(random() * 60)) });
      }
      const merged = groundTruthFrames(
        truth.map((t) => ({ ...t, unit: 'frame' as const })),
        fps,
        frameCount,
      );
      const expected = oracle(series(clips), fps, frameCount);
      expect([...expandClipScores(series(clips), fps, frameCount)]).toEqual(expected);

      const buffer = new SampleBuffer();
      frameRuns(series(clips), merged, fps, frameCount, buffer);
      const all = buffer.all();
      expect(all.weights.reduce((a, b) => a + b, 0)).toBe(frameCount);
      const labels = frameLabels(merged, frameCount);
      const perFrame = Float64Array.from(expected);
      if (labels.includes(1) && labels.includes(0)) {
        expect(rocAuc(all.scores, all.labels, all.weights)).toBeCloseTo(rocAuc(perFrame, labels), 12);
        expect(averagePrecision(all.scores, all.labels, all.weights)).toBeCloseTo(
          averagePrecision(perFrame, labels),
          12,
        );
      }
    }
  });

  it('a long video at 1M clips runs without per-frame arrays', () => {
    // 1M clips of 8 s every 4 s at 30 fps: 1111 hours, 120M native frames, as runs.
    const n = 1_000_000;
    const startMs = new Float64Array(n);
    const endMs = new Float64Array(n);
    const scores = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      startMs[c] = c * 4000;
      endMs[c] = c * 4000 + 8000;
      scores[c] = ((c * 7919) % 1000) / 1000;
    }
    const buffer = new SampleBuffer();
    const frameCount = frameCountOf(n * 4000 + 4000, 30);
    const started = performance.now();
    frameRuns({ startMs, endMs, scores }, [{ start: 1000, end: 5000 }], 30, frameCount, buffer);
    const all = buffer.all();
    const auc = rocAuc(all.scores, all.labels, all.weights);
    const seconds = (performance.now() - started) / 1000;
    expect(all.weights.reduce((a, b) => a + b, 0)).toBe(frameCount);
    expect(buffer.length).toBeLessThanOrEqual(n + 2);
    expect(auc).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(20);
  });
});
