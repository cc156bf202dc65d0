import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  binaryCurve,
  downsample,
  falseAlarmsPerHour,
  matchEvents,
  prAucTrapezoid,
  prCurve,
  precisionRecall,
  rocAuc,
  rocCurve,
  shareAtOrAbove,
  spanIoU,
} from '../src/index.js';

const f64 = (values: number[]) => Float64Array.from(values);
const u8 = (values: number[]) => Uint8Array.from(values);

/** Mann–Whitney by definition: every (positive, negative) pair, a tie counting one half. O(n²). */
function bruteAuc(scores: number[], labels: number[], weights?: number[]) {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      const w = (weights?.[i] ?? 1) * (weights?.[j] ?? 1);
      pairs += w;
      const a = scores[i] as number;
      const b = scores[j] as number;
      sum += w * (a > b ? 1 : a === b ? 0.5 : 0);
    }
  }
  return sum / pairs;
}

describe('frame-level ROC-AUC and AP, by hand', () => {
  it('scores [0.5, 0.5, 0.2, 0.8], labels [1, 0, 0, 1]: a tie between a positive and a negative', () => {
    const scores = f64([0.5, 0.5, 0.2, 0.8]);
    const labels = u8([1, 0, 0, 1]);
    // Pairs (positive, negative): (0.8, 0.5) 1, (0.8, 0.2) 1, (0.5, 0.5) ½, (0.5, 0.2) 1 → 3.5 / 4.
    expect(rocAuc(scores, labels)).toBeCloseTo(0.875, 12);
    // Thresholds 0.8: P 1, R ½; 0.5: P ⅔, R 1; 0.2: P ½, R 1. AP = ½·1 + ½·⅔ + 0 = ⅚.
    expect(averagePrecision(scores, labels)).toBeCloseTo(5 / 6, 12);
    // Trapezoids from (R 0, P 1): ½·(1 + 1)/2 + ½·(1 + ⅔)/2 = ½ + 5/12 = 11/12.
    expect(prAucTrapezoid(scores, labels)).toBeCloseTo(11 / 12, 12);
    const roc = rocCurve(binaryCurve(scores, labels));
    expect([...roc.x]).toEqual([0, 0, 0.5, 1]);
    expect([...roc.y]).toEqual([0, 0.5, 1, 1]);
    const pr = prCurve(binaryCurve(scores, labels));
    expect([...pr.x]).toEqual([0, 0.5, 1, 1]);
    expect(pr.y[2]).toBeCloseTo(2 / 3, 12);
  });

  it('a three-way tie: scores [0.9, 0.7, 0.7, 0.7, 0.3, 0.1], labels [1, 1, 0, 0, 1, 0]', () => {
    const scores = f64([0.9, 0.7, 0.7, 0.7, 0.3, 0.1]);
    const labels = u8([1, 1, 0, 0, 1, 0]);
    // Positive 0.9 beats 3; 0.7 ties 2 (1) and beats 0.1 (1); 0.3 beats 0.1 → 6 / 9.
    expect(rocAuc(scores, labels)).toBeCloseTo(2 / 3, 12);
    // 0.9: P 1, R ⅓; 0.7: P 2/4, R ⅔; 0.3: P 3/5, R 1; 0.1: P ½, R 1 → (1 + ½ + 0.6) / 3 = 0.7.
    expect(averagePrecision(scores, labels)).toBeCloseTo(0.7, 12);
    // (⅓)(1 + 1)/2 + (⅓)(1 + ½)/2 + (⅓)(½ + 0.6)/2 = (2 + 1.5 + 1.1) / 6.
    expect(prAucTrapezoid(scores, labels)).toBeCloseTo(4.6 / 6, 12);
  });

  it('every score equal: AUC ½ and AP the share of positives', () => {
    const scores = f64([0.4, 0.4, 0.4, 0.4, 0.4]);
    const labels = u8([1, 0, 0, 1, 0]);
    expect(rocAuc(scores, labels)).toBe(0.5);
    expect(averagePrecision(scores, labels)).toBeCloseTo(0.4, 12);
  });

  it('perfect and inverted rankings; NaN when a class is missing', () => {
    expect(rocAuc(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1]))).toBe(1);
    expect(averagePrecision(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1]))).toBe(1);
    expect(rocAuc(f64([0.9, 0.8, 0.2, 0.1]), u8([0, 0, 1, 1]))).toBe(0);
    expect(rocAuc(f64([0.1, 0.2]), u8([0, 0]))).toBeNaN();
    expect(averagePrecision(f64([0.1, 0.2]), u8([0, 0]))).toBeNaN();
    expect(rocAuc(f64([0.1, 0.2]), u8([1, 1]))).toBeNaN();
  });

  it('a weight of n is n equal samples (how runs of frames are counted)', () => {
    const scores = [0.3, 0.6, 0.6, 0.9, 0.1];
    const labels = [0, 1, 0, 1, 0];
    const weights = [4, 2, 3, 1, 5];
    const repeated = { scores: [] as number[], labels: [] as number[] };
    scores.forEach((s, i) => {
      for (let k = 0; k < (weights[i] as number); k++) {
        repeated.scores.push(s);
        repeated.labels.push(labels[i] as number);
      }
    });
    const weighted = binaryCurve(f64(scores), u8(labels), f64(weights));
    const plain = binaryCurve(f64(repeated.scores), u8(repeated.labels));
    expect(rocAuc(weighted)).toBeCloseTo(rocAuc(plain), 12);
    expect(rocAuc(weighted)).toBeCloseTo(bruteAuc(scores, labels, weights), 12);
    expect(averagePrecision(weighted)).toBeCloseTo(averagePrecision(plain), 12);
    expect(prAucTrapezoid(weighted)).toBeCloseTo(prAucTrapezoid(plain), 12);
  });

  it('matches the pairwise definition on 500 random samples with many ties, as float32 too', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const scores = Array.from({ length: 500 }, () => Math.round(random() * 20) / 20);
    const labels = scores.map((s) => (random() < 0.2 + 0.6 * s ? 1 : 0));
    expect(rocAuc(f64(scores), u8(labels))).toBeCloseTo(bruteAuc(scores, labels), 12);
    const f32 = Float32Array.from(scores);
    expect(rocAuc(f32, u8(labels))).toBeCloseTo(bruteAuc([...f32], labels), 12);
  });

  it('refuses NaN scores and arrays of different lengths', () => {
    expect(() => binaryCurve(f64([0.1, Number.NaN]), u8([0, 1]))).toThrow(/NaN/);
    expect(() => binaryCurve(f64([0.1]), u8([0, 1]))).toThrow(/length/);
  });
});

describe('curves for charts', () => {
  it('downsamples a long curve to at most 1000 points, keeping both ends', () => {
    const n = 200_000;
    const scores = Float64Array.from({ length: n }, (_, i) => i / n);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const curve = binaryCurve(scores, labels);
    const roc = rocCurve(curve);
    expect(roc.x.length).toBeLessThanOrEqual(1000);
    expect(roc.x.length).toBeGreaterThan(500);
    expect([roc.x[0], roc.y[0]]).toEqual([0, 0]);
    expect([roc.x.at(-1), roc.y.at(-1)]).toEqual([1, 1]);
    expect(prCurve(curve).x.length).toBeLessThanOrEqual(1000);
    const short = { x: f64([0, 0.5, 1]), y: f64([0, 1, 1]) };
    expect(downsample(short)).toBe(short);
  });
});

describe('false alarms and events', () => {
  it('false-alarm rate: share of frames at or above the threshold, by weight', () => {
    expect(shareAtOrAbove(f64([0.2, 0.5, 0.7]), f64([6, 3, 1]), 0.5)).toBeCloseTo(0.4, 12);
    expect(shareAtOrAbove(f64([]), undefined, 0.5)).toBeNaN();
  });

  it('false alarms per hour of normal footage', () => {
    expect(falseAlarmsPerHour(3, 2 * 3_600_000)).toBe(1.5);
    expect(falseAlarmsPerHour(3, 0)).toBeNaN();
  });

  it('IoU of time spans', () => {
    expect(spanIoU({ startMs: 0, endMs: 10 }, { startMs: 5, endMs: 15 })).toBeCloseTo(5 / 15, 12);
    expect(spanIoU({ startMs: 0, endMs: 10 }, { startMs: 10, endMs: 15 })).toBe(0);
  });

  it('greedy matching at IoU ≥ 0.5: the highest score takes its best match first; each truth matches once', () => {
    const truth = [
      { startMs: 0, endMs: 10_000 },
      { startMs: 20_000, endMs: 30_000 },
    ];
    const predicted = [
      { startMs: 1000, endMs: 9000, score: 0.6 }, // IoU 0.8 with the first
      { startMs: 0, endMs: 10_000, score: 0.9 }, // IoU 1 with the first: matched first
      { startMs: 25_000, endMs: 35_000, score: 0.7 }, // IoU 5/15 with the second: too little
      { startMs: 20_000, endMs: 25_000, score: 0.5 }, // IoU exactly 0.5: a match
    ];
    expect(matchEvents(predicted, truth)).toBe(2);
    expect(precisionRecall(2, 4, 2)).toEqual({ precision: 0.5, recall: 1, f1: 2 / 3 });
    expect(precisionRecall(0, 0, 2).precision).toBeNaN();
    expect(precisionRecall(0, 3, 2).f1).toBe(0);
  });
});
