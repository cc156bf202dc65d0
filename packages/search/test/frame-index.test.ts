import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DotProducts } from '@vad/scoring';
import { describe, expect, it } from 'vitest';
import { FrameIndex, VectorCache, VideoVectors } from '../src/index.js';

/** Deterministic vectors in clusters (scenes), unit length: what a night of camera frames looks like to an index. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  let state = seed;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: dim }, random));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const centre = centres[Math.floor((random() + 0.5) * centres.length) % centres.length] as Float32Array;
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const v = (centre[j] as number) + 0.4 * random();
      out[i * dim + j] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[i * dim + j] = (out[i * dim + j] as number) / norm;
  }
  return out;
}

describe('FrameIndex', () => {
  const dim = 64;
  const perVideo = 500;
  const matrices = [0, 1, 2, 3].map((v) => clustered(perVideo, dim, v + 1));
  const frameIds = Int32Array.from({ length: perVideo }, (_, i) => i * 2);

  it('finds what comparing with every vector finds (recall@10 ≥ 0.95), and maps keys back to video and frame', () => {
    const index = FrameIndex.create('m', dim);
    matrices.forEach((m, v) => {
      index.add({ id: `v${v}`, cameraId: v }, frameIds, m);
    });
    expect(index.size).toBe(4 * perVideo);
    const all = new Float32Array(4 * perVideo * dim);
    matrices.forEach((m, v) => {
      all.set(m, v * perVideo * dim);
    });
    const exact = new DotProducts(all, dim);
    const out = new Float32Array(4 * perVideo);
    let hits = 0;
    let selfFirst = 0;
    const queries = 30;
    for (let q = 0; q < queries; q++) {
      const query = all.slice(q * 61 * dim, (q * 61 + 1) * dim);
      exact.one(query, out);
      const truth = new Set(
        [...out.keys()]
          .sort((a, b) => (out[b] as number) - (out[a] as number))
          .slice(0, 10)
          .map((row) => `v${Math.floor(row / perVideo)}/${(row % perVideo) * 2}`),
      );
      const found = index.search(query, 10);
      // The graph is approximate (and built by several threads): the frame itself comes first almost always.
      if (Math.abs((found[0]?.score ?? 0) - 1) < 0.005) selfFirst += 1;
      hits += found.filter((h) => truth.has(`${h.videoId}/${h.frameIndex}`)).length;
    }
    expect(selfFirst / queries).toBeGreaterThanOrEqual(0.9);
    expect(hits / (queries * 10)).toBeGreaterThanOrEqual(0.95);
  });

  it('saves and loads, removes a video whole, and replaces a video added again', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'vad-index-')), 'm');
    const index = FrameIndex.create('m', dim);
    index.add({ id: 'a', cameraId: 1 }, frameIds, matrices[0] as Float32Array);
    index.add({ id: 'b', cameraId: 2 }, frameIds, matrices[1] as Float32Array);
    await index.save(folder);
    const loaded = (await FrameIndex.load(folder)) as FrameIndex;
    expect(loaded.size).toBe(2 * perVideo);
    expect(loaded.videoIds().sort()).toEqual(['a', 'b']);
    const query = (matrices[1] as Float32Array).slice(7 * dim, 8 * dim);
    expect(loaded.search(query, 1)[0]).toMatchObject({ videoId: 'b', frameIndex: 14 });
    loaded.remove('b');
    expect(loaded.size).toBe(perVideo);
    expect(loaded.search(query, 20).every((h) => h.videoId === 'a')).toBe(true);
    loaded.add({ id: 'a', cameraId: 1 }, frameIds.subarray(0, 10), (matrices[0] as Float32Array).slice(0, 10 * dim));
    expect(loaded.size).toBe(10);
    expect(await FrameIndex.load(join(folder, '..', 'none'))).toBeUndefined();
  });
});

describe('VectorCache and VideoVectors', () => {
  const frame = (frameIndex: number, vector: number[], sourceFrame = frameIndex) => ({
    frameIndex,
    ptsMs: frameIndex * 500,
    vector: Float32Array.from(vector),
    sourceFrame,
  });

  it('keeps each distinct vector once (frames that reuse one share its row) and scores every frame', () => {
    const shared = Float32Array.from([3, 4, 0, 0]);
    const video = VideoVectors.from('v', [
      { frameIndex: 0, ptsMs: 0, vector: shared, sourceFrame: 0 },
      { frameIndex: 1, ptsMs: 500, vector: shared, sourceFrame: 0 },
      frame(2, [0, 0, 1, 0]),
    ]);
    expect(video.rowCount).toBe(2);
    expect([...video.frameScores(Float32Array.from([1, 0, 0, 0]))].map((s) => Number(s.toFixed(3)))).toEqual([
      0.6, 0.6, 0,
    ]);
    expect(video.vectorAt(900)).toMatchObject({ frameIndex: 2 });
    expect([...video.rows().frames]).toEqual([0, 2]);
  });

  it('loads a video once for concurrent searches and drops the least recently used past its budget', async () => {
    const loads: string[] = [];
    const frames = Array.from({ length: 100 }, (_, i) => frame(i, [i + 1, 1, 1, 1]));
    const size = VideoVectors.from('probe', frames).bytes;
    // Room for one video and a half: the second evicts the first.
    const cache = new VectorCache(async (id) => {
      loads.push(id);
      return frames;
    }, size * 1.5);
    const [a1, a2] = await Promise.all([cache.get('a', 'm'), cache.get('a', 'm')]);
    expect(a1).toBe(a2);
    expect(loads).toEqual(['a']);
    expect(cache.bytes).toBe(size);
    await cache.get('b', 'm');
    expect(cache.size).toBe(1);
    await cache.get('b', 'm');
    await cache.get('a', 'm');
    expect(loads).toEqual(['a', 'b', 'a']);
    cache.forget('a');
    await cache.get('a', 'm');
    expect(loads.at(-1)).toBe('a');
  });
});
