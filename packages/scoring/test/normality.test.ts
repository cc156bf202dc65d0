import { describe, expect, it } from 'vitest';
import {
  buildNormalMemory,
  calibrateThreshold,
  cutClips,
  DotProducts,
  extractEvents,
  farthestPointCoreset,
  fuseScores,
  knnDistances,
  type MemoryFeature,
  normalityScoreOfZ,
  normalityScores,
  normalize,
  poolNormalityFeature,
  simdAvailable,
  type TimedScore,
} from '../src/index.js';

/** A deterministic generator (mulberry32): the same numbers every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const unitVector = (dim: number, rand: () => number) =>
  normalize(Float32Array.from({ length: dim }, () => rand() - 0.5));

/** `base` moved by noise of size `amount` in a random direction, renormalised. */
const near = (base: Float32Array, amount: number, rand: () => number) => {
  const noise = unitVector(base.length, rand);
  return normalize(base.map((x, i) => x + amount * (noise[i] as number)));
};

const dotOf = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

/** The reference: mean of the k smallest cosine distances, by sorting all of them. */
const bruteKnn = (q: Float32Array, rows: readonly Float32Array[], k: number) => {
  const d = rows.map((r) => Math.max(0, 1 - dotOf(normalize(q), r))).sort((a, b) => a - b);
  const n = Math.min(k, d.length);
  return d.slice(0, n).reduce((s, x) => s + x, 0) / n;
};

describe('dot products', () => {
  it('WebAssembly SIMD is available here and gives what the JavaScript loop gives', () => {
    expect(simdAvailable()).toBe(true);
    const rand = random(1);
    for (const dim of [4, 8, 512, 12]) {
      const rows = 37;
      const matrix = Float32Array.from({ length: rows * dim }, () => rand() - 0.5);
      const queries = [0, 1, 2].map(() => Float32Array.from({ length: dim }, () => rand() - 0.5));
      const fast = new DotProducts(matrix, dim);
      const slow = new DotProducts(matrix, dim, { simd: false });
      const a = new Float32Array(rows * 4);
      const b = new Float32Array(rows * 4);
      fast.four(queries, a);
      slow.four(queries, b);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < 4; i++) {
          const q = queries[i];
          const expected = q ? dotOf(matrix.subarray(r * dim, (r + 1) * dim), q) : 0;
          expect(a[r * 4 + i]).toBeCloseTo(expected, 4);
          expect(b[r * 4 + i]).toBeCloseTo(expected, 4);
        }
      }
      const one = new Float32Array(rows);
      fast.one(queries[1] as Float32Array, one);
      for (let r = 0; r < rows; r++) expect(one[r]).toBeCloseTo(a[r * 4 + 1] as number, 5);
    }
    expect(() => new DotProducts(new Float32Array(10), 4)).toThrow(RangeError);
  });
});

describe('kNN distance to a normal memory', () => {
  const rand = random(7);
  const dim = 16;
  const rows = Array.from({ length: 50 }, () => unitVector(dim, rand));
  const memory = buildNormalMemory(rows.map((feature, i) => ({ feature, videoId: `v${i % 5}`, clipIndex: i })));

  it('is the mean cosine distance to the k nearest features (brute force, as a sort would find)', () => {
    const queries = Array.from({ length: 11 }, () => unitVector(dim, rand));
    const distances = knnDistances(queries, memory);
    for (const [i, q] of queries.entries()) expect(distances[i]).toBeCloseTo(bruteKnn(q, rows, 3), 5);
    // A stored feature is at distance 0 from itself; k = 3 averages in the next two.
    expect(knnDistances([rows[4] as Float32Array], memory)[0]).toBeCloseTo(bruteKnn(rows[4]!, rows, 3), 5);
  });

  it("leaves a video's own features out when asked (a video scored against a memory learned from it)", () => {
    const own = rows.filter((_, i) => i % 5 === 2);
    const others = rows.filter((_, i) => i % 5 !== 2);
    const q = own[0] as Float32Array;
    expect(knnDistances([q], memory)[0]).toBeCloseTo(bruteKnn(q, rows, 3), 5);
    expect(knnDistances([q], memory, { excludeVideo: 'v2' })[0]).toBeCloseTo(bruteKnn(q, others, 3), 5);
  });

  it("counts a pinned feature (a marked false alarm) k times, and keeps it when its video's are left out", () => {
    const q = unitVector(dim, rand);
    const close = near(q, 0.05, rand);
    const features: MemoryFeature[] = [
      ...rows.map((feature, i) => ({ feature, videoId: `v${i % 5}`, clipIndex: i })),
      { feature: close, videoId: 'marked', clipIndex: 0, pinned: true },
    ];
    const pinnedMemory = buildNormalMemory(features);
    const own = 1 - dotOf(q, close);
    expect(knnDistances([q], pinnedMemory)[0]).toBeCloseTo(own, 5);
    expect(knnDistances([q], pinnedMemory, { excludeVideo: 'marked' })[0]).toBeCloseTo(own, 5);
    const unpinned = buildNormalMemory(features.map((f) => ({ ...f, pinned: false })));
    expect(knnDistances([q], unpinned)[0]).toBeCloseTo(bruteKnn(q, [...rows, close], 3), 5);
    expect(knnDistances([q], unpinned, { excludeVideo: 'marked' })[0]).toBeCloseTo(bruteKnn(q, rows, 3), 5);
  });

  it('refuses an empty memory, a memory of one feature, mixed dimensions, and queries of another dimension', () => {
    expect(() => buildNormalMemory([])).toThrow('the normal memory is empty');
    expect(() => buildNormalMemory([{ feature: rows[0]!, videoId: 'a', clipIndex: 0 }])).toThrow(/at least 2/);
    expect(() =>
      buildNormalMemory([
        { feature: rows[0]!, videoId: 'a', clipIndex: 0 },
        { feature: new Float32Array(8).fill(1), videoId: 'a', clipIndex: 1 },
      ]),
    ).toThrow(/dimensions/);
    expect(() => knnDistances([new Float32Array(8)], memory)).toThrow(/8 dimensions against a memory of 16/);
  });
});

describe('standardisation by the camera’s own distances', () => {
  /**
   * Three nights of one scene: within a night consecutive clips are almost
   * the same (they overlap), between nights the scene differs a little
   * more (light, noise). A new night is as far from the memory as one night
   * is from the others, not as one clip is from its neighbour.
   */
  const rand = random(11);
  const dim = 32;
  const scene = unitVector(dim, rand);
  const nights = [0, 1, 2].map(() => near(scene, 0.15, rand));
  const memoryFeatures: MemoryFeature[] = nights.flatMap((night, n) =>
    Array.from({ length: 40 }, (_, c) => ({ feature: near(night, 0.01, rand), videoId: `night${n}`, clipIndex: c })),
  );
  const memory = buildNormalMemory(memoryFeatures);

  it('measures each feature against the other videos (leave one video out), not its overlapping neighbours', () => {
    const between = bruteKnn(
      memoryFeatures[0]!.feature,
      memoryFeatures.slice(40).map((f) => f.feature),
      3,
    );
    const within = bruteKnn(
      memoryFeatures[0]!.feature,
      memoryFeatures.slice(1, 40).map((f) => f.feature),
      3,
    );
    expect(within).toBeLessThan(between / 5);
    expect(memory.center).toBeGreaterThan(between / 2);
    expect(memory.center).toBeLessThan(between * 2);
    expect(memory.scale).toBeGreaterThanOrEqual(0.005);
  });

  it('scores a normal new night low and a changed scene high; the score rises with the distance', () => {
    const newNight = near(scene, 0.15, rand);
    const normal = Array.from({ length: 20 }, () => near(newNight, 0.01, rand));
    const changed = Array.from({ length: 5 }, () => near(unitVector(dim, rand), 0.01, rand));
    const scores = normalityScores([...normal, ...changed], memory);
    expect(Math.max(...scores.slice(0, 20))).toBeLessThan(0.5);
    expect(scores.slice(0, 20).reduce((a, b) => a + b, 0) / 20).toBeLessThan(0.2);
    expect(Math.min(...scores.slice(20))).toBeGreaterThan(0.99);
    // Between the scene and elsewhere, step by step: monotone.
    const other = unitVector(dim, rand);
    const path = [0, 0.1, 0.2, 0.4, 0.8, 1.6].map((t) =>
      normalize(newNight.map((x, i) => x + t * (other[i] as number))),
    );
    const along = normalityScores(path, memory);
    for (let i = 1; i < along.length; i++) expect(along[i]).toBeGreaterThanOrEqual(along[i - 1] as number);
  });

  it('maps z through a logistic centred on 3: median 0.05, 3 out 0.5, 6 out 0.95', () => {
    expect(normalityScoreOfZ(0)).toBeCloseTo(0.0474, 3);
    expect(normalityScoreOfZ(3)).toBe(0.5);
    expect(normalityScoreOfZ(6)).toBeCloseTo(0.9526, 3);
    expect(normalityScoreOfZ(-50)).toBeGreaterThanOrEqual(0);
    expect(normalityScoreOfZ(1e6)).toBeLessThanOrEqual(1);
  });

  it('a memory of one video leaves out the clips overlapping each feature instead', () => {
    const single = buildNormalMemory(
      memoryFeatures.slice(0, 40).map((f) => ({ ...f })),
      { minScale: 0 },
    );
    expect(single.center).toBeGreaterThan(0);
    // Close to the within-night spread, not zero (a feature never measured against itself).
    expect(single.center).toBeLessThan(0.01);
  });

  it('pools a clip as the unit mean of its distinct frames, padding left out', () => {
    const a = new Float32Array([1, 0]);
    const b = new Float32Array([0, 1]);
    const [clip] = cutClips([a, b, a], 8, 8);
    const pooled = poolNormalityFeature(clip!);
    expect(clip!.validFrames).toBe(3);
    expect([...pooled].map((x) => Number(x.toFixed(4)))).toEqual([0.8944, 0.4472]);
  });
});

describe('fused scores', () => {
  const threshold = 0.5;
  it('(a) an anomaly no prompt names is still found: normality high, prompts low', () => {
    expect(fuseScores(0.95, 0.02)).toBeGreaterThan(0.85);
    expect(fuseScores(0.8, 0)).toBeGreaterThan(threshold);
  });
  it('(b) a normal scene a prompt names every night never alarms: prompts high, normality low', () => {
    expect(fuseScores(0.05, 1)).toBeLessThanOrEqual(0.05);
    expect(fuseScores(0.3, 0.99)).toBeLessThan(threshold);
    // Never above normality, whatever the prompts say.
    for (const n of [0, 0.1, 0.4, 0.7, 1]) for (const p of [0, 0.5, 1]) expect(fuseScores(n, p)).toBeLessThanOrEqual(n);
  });
  it('(c) where both agree the score is highest, and it rises with each', () => {
    expect(fuseScores(1, 1)).toBe(1);
    expect(fuseScores(0.9, 0.9)).toBeGreaterThan(fuseScores(0.9, 0.1));
    expect(fuseScores(0.6, 1)).toBeGreaterThan(threshold);
    expect(fuseScores(0.6, 0)).toBeLessThan(threshold);
    const grid = [0, 0.25, 0.5, 0.75, 1];
    for (const n of grid) {
      for (const p of grid) {
        const s = fuseScores(n, p);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        if (n < 1) expect(fuseScores(n + 0.25, p)).toBeGreaterThanOrEqual(s);
        if (p < 1) expect(fuseScores(n, p + 0.25)).toBeGreaterThanOrEqual(s);
      }
    }
  });
});

describe('memory cap: farthest-point coreset', () => {
  const rand = random(3);
  const dim = 16;
  const centres = [0, 1, 2].map(() => unitVector(dim, rand));
  const rare = unitVector(dim, rand);
  // 300 clips of three usual states, then a rare normal state for 20 clips (headlights once a night).
  const features = [
    ...Array.from({ length: 300 }, (_, i) => near(centres[i % 3] as Float32Array, 0.02, rand)),
    ...Array.from({ length: 20 }, () => near(rare, 0.02, rand)),
  ];
  const isRare = (i: number) => i >= 300;

  it('keeps everything under the cap, and otherwise covers every state, the rare one included', () => {
    expect(farthestPointCoreset(features.slice(0, 10), 20)).toEqual([...Array(10).keys()]);
    // 320 features for 40: every one is a candidate (at most 4 × 40).
    const kept = farthestPointCoreset(features, 40);
    expect(kept).toHaveLength(40);
    expect(kept.some(isRare)).toBe(true);
    expect(new Set(kept.filter((i) => !isRare(i)).map((i) => i % 3)).size).toBe(3);
    expect(farthestPointCoreset(features, 40)).toEqual(kept);
    // The same selection in plain JavaScript.
    expect(farthestPointCoreset(features, 40, [], { simd: false })).toEqual(kept);
  });

  it('is the greedy k-center choice: each pick the farthest from those before (pruning changes nothing)', () => {
    const kept = farthestPointCoreset(features, 5);
    const reference: number[] = [0];
    const distance = (a: number, b: number) => 1 - dotOf(features[a]!, features[b]!);
    // 320 > 4 × 5 candidates: the same evenly spaced ones (every 16th).
    const candidates = [...new Set(Array.from({ length: 20 }, (_, i) => Math.floor((i * 320) / 20)))];
    while (reference.length < 5) {
      let best = -1;
      let bestDistance = -1;
      for (const c of candidates) {
        if (reference.includes(c)) continue;
        const d = Math.min(...reference.map((r) => distance(c, r)));
        if (d > bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      reference.push(best);
    }
    expect(kept).toEqual(reference.sort((a, b) => a - b));
    // Beyond 4 × max candidates a state lasting longer than the spacing is still found.
    expect(kept.some(isRare)).toBe(true);
  });

  it('keeps the seeds (operator-marked false alarms) and fills up around them', () => {
    const kept = farthestPointCoreset(features, 6, [5, 17]);
    expect(kept).toEqual(expect.arrayContaining([5, 17]));
    expect(kept).toHaveLength(6);
    expect(kept.some(isRare)).toBe(true);
    // More seeds than room: a coreset of the seeds.
    const seeds = [...Array(10).keys()];
    const onlySeeds = farthestPointCoreset(features, 3, seeds);
    expect(onlySeeds).toHaveLength(3);
    expect(onlySeeds.every((i) => seeds.includes(i))).toBe(true);
    // A seed is kept even where thinning would have left it out.
    expect(farthestPointCoreset(features, 5, [299])).toContain(299);
  });
});

describe('threshold calibration', () => {
  const options = { minDurationMs: 2_000, mergeGapMs: 4_000 };
  /** An hour of 4-second clips with noisy scores and a few high stretches. */
  const hourOfScores = (seed: number): TimedScore[] => {
    const rand = random(seed);
    return Array.from({ length: 900 }, (_, i) => {
      const burst = i % 97 < 3 ? 0.4 : 0;
      return {
        startMs: i * 4_000,
        endMs: i * 4_000 + 8_000,
        score: Math.min(0.999, 0.1 + 0.3 * rand() + burst),
        label: 'x',
      };
    });
  };
  const videos = [1, 2, 3].map((seed) => ({ durationMs: 3_600_000, clips: hourOfScores(seed) }));
  const eventsAt = (threshold: number) =>
    videos.reduce((sum, v) => sum + extractEvents(v.clips, { threshold, ...options }).length, 0);

  it('picks the lowest threshold that keeps the events per hour at or under the target, as extractEvents counts them', () => {
    for (const target of [0, 0.5, 2, 5, 20]) {
      const result = calibrateThreshold(videos, { maxEventsPerHour: target, ...options });
      expect(result.hours).toBe(3);
      expect(result.events).toBe(eventsAt(result.threshold));
      expect(result.events / 3).toBeLessThanOrEqual(target);
      expect(result.eventsPerHour).toBeCloseTo(result.events / 3);
      // Every higher candidate keeps the target too.
      for (let t = result.threshold; t < 1; t += 0.013) expect(eventsAt(t) / 3).toBeLessThanOrEqual(target);
      // One step lower breaks it (unless it is the lowest candidate).
      if (result.threshold > 0.001) expect(eventsAt(result.threshold - 0.001) / 3).toBeGreaterThan(target);
    }
  });

  it('refuses no footage, and a target even the highest threshold cannot keep', () => {
    expect(() => calibrateThreshold([], { maxEventsPerHour: 1, ...options })).toThrow('no footage');
    const always = [{ durationMs: 60_000, clips: [{ startMs: 0, endMs: 60_000, score: 1, label: 'x' }] }];
    expect(() => calibrateThreshold(always, { maxEventsPerHour: 1, ...options })).toThrow(
      /even threshold 0.999 gives 1 events/,
    );
  });
});

describe('speed', () => {
  it('scores a night (3,600 clips) against a capped memory (4,000 × 512) in a few seconds', () => {
    const rand = random(5);
    const dim = 512;
    const memoryFeatures = Array.from({ length: 4_000 }, (_, i) => ({
      feature: unitVector(dim, rand),
      videoId: `night${i % 10}`,
      clipIndex: i,
    }));
    const night = Array.from({ length: 3_600 }, () => unitVector(dim, rand));
    const started = performance.now();
    const memory = buildNormalMemory(memoryFeatures);
    const built = performance.now();
    const scores = normalityScores(night, memory);
    const done = performance.now();
    console.info(
      `normal memory 4000×512: standardised in ${Math.round(built - started)} ms; 3600 clips scored in ${Math.round(done - built)} ms`,
    );
    expect(scores).toHaveLength(3_600);
    expect(done - started).toBeLessThan(8_000);
  });
});
