import { describe, expect, it } from 'vitest';
import { argmax, beamSearch, generate, greedySearch, type LogitsSource, topK } from '../src/index.js';

const START = 0;
const EOS = 1;
const PAD = 2;
const VOCABULARY = 8;
const options = { decoderStartTokenId: START, eosTokenId: EOS, padTokenId: PAD, maxNewTokens: 10 };

type Distribution = Record<number, number>;

/** Logits from probabilities (log p; tokens not given get a tiny probability). */
function logitsOf(distribution: Distribution): number[] {
  const rest = 1e-6;
  return Array.from({ length: VOCABULARY }, (_, v) => Math.log(distribution[v] ?? rest));
}

/**
 * A source whose next-token distribution depends on the row's item (as
 * encoder states would) and its generated tokens; it follows reorder like a
 * cached decoder, and records what it was fed.
 */
class FakeSource implements LogitsSource {
  readonly fed: number[][][] = [];
  private items: number[];
  constructor(
    batch: number,
    private readonly model: (item: number, generated: number[]) => Distribution,
  ) {
    this.items = Array.from({ length: batch }, (_, i) => i);
  }
  async next(sequences: readonly (readonly number[])[]): Promise<Float32Array> {
    expect(sequences).toHaveLength(this.items.length);
    this.fed.push(sequences.map((s) => [...s]));
    return new Float32Array(sequences.flatMap((s, r) => logitsOf(this.model(this.items[r] as number, s.slice(1)))));
  }
  reorder(rows: readonly number[]): void {
    this.items = rows.map((r) => this.items[r] as number);
  }
}

/** Item i says "3 4 … " for i+1 tokens, then the end token. */
const counting = (item: number, generated: number[]): Distribution =>
  generated.length <= item ? { [3 + generated.length]: 0.9, [EOS]: 0.1 } : { [EOS]: 0.95, 7: 0.05 };

describe('greedy search', () => {
  it('stops at the end token, which is not part of the result', async () => {
    const [result] = await greedySearch(new FakeSource(1, counting), 1, options);
    expect(result).toMatchObject({ tokenIds: [3], finished: true });
    expect(result?.score).toBeCloseTo(Math.log(0.9) + Math.log(0.95), 4);
  });

  it('stops at maxNewTokens', async () => {
    const endless = () => ({ 5: 0.9 });
    const source = new FakeSource(2, endless);
    const results = await greedySearch(source, 2, { ...options, maxNewTokens: 4 });
    expect(results.map((r) => r.tokenIds)).toEqual([
      [5, 5, 5, 5],
      [5, 5, 5, 5],
    ]);
    expect(results.every((r) => !r.finished)).toBe(true);
    expect(source.fed).toHaveLength(4);
  });

  it('lets rows finish at different steps: finished rows are fed the pad token, the loop ends with the last', async () => {
    const source = new FakeSource(3, counting);
    const results = await greedySearch(source, 3, options);
    expect(results.map((r) => r.tokenIds)).toEqual([[3], [3, 4], [3, 4, 5]]);
    // Row 2 needs 4 steps (3 tokens and the end token); then every row has finished.
    expect(source.fed).toHaveLength(4);
    expect(source.fed.at(-1)).toEqual([
      [START, 3, EOS, PAD],
      [START, 3, 4, EOS],
      [START, 3, 4, 5],
    ]);
  });
});

describe('beam search', () => {
  // Step 1: A (3) 0.5, B (4) 0.4. After A everything is uncertain; after B the end is near-certain.
  const trap = (_item: number, generated: number[]): Distribution => {
    if (generated.length === 0) return { 3: 0.5, 4: 0.4, 5: 0.1 };
    if (generated[0] === 3) return { 5: 0.25, 6: 0.25, 7: 0.25, [EOS]: 0.25 };
    return { [EOS]: 0.9, 5: 0.1 };
  };

  it('picks the more probable sequence where greedy takes the locally best token', async () => {
    const [greedy] = await greedySearch(new FakeSource(1, trap), 1, options);
    expect(greedy?.tokenIds[0]).toBe(3);
    const [beam] = await beamSearch(new FakeSource(1, trap), 1, { ...options, numBeams: 2 });
    expect(beam).toMatchObject({ tokenIds: [4], finished: true });
    // log(0.4 · 0.9) over 2 tokens (B and the end token).
    expect(beam?.score).toBeCloseTo(Math.log(0.36) / 2, 4);
  });

  it('searches each image of a batch on its own, following reordered rows', async () => {
    const mixed = (item: number, generated: number[]) => (item === 1 ? trap(item, generated) : counting(2, generated));
    const source = new FakeSource(3, mixed);
    const results = await generate(source, 3, { ...options, numBeams: 3 });
    expect(results.map((r) => r.tokenIds)).toEqual([[3, 4, 5], [4], [3, 4, 5]]);
    // The first step runs one row per image, the next ones numBeams rows per image still searching.
    expect(source.fed[0]).toHaveLength(3);
    expect(source.fed[1]).toHaveLength(9);
  });

  it('agrees with greedy search when the best path is also locally best', async () => {
    const three = (_item: number, generated: number[]) => counting(2, generated);
    const [greedy] = await greedySearch(new FakeSource(1, three), 1, options);
    const [beam] = await beamSearch(new FakeSource(1, three), 1, { ...options, numBeams: 4 });
    expect(greedy?.tokenIds).toEqual([3, 4, 5]);
    expect(beam?.tokenIds).toEqual(greedy?.tokenIds);
  });

  it('returns the best live beam at maxNewTokens, unfinished', async () => {
    const endless = () => ({ 5: 0.6, 6: 0.4 });
    const [beam] = await beamSearch(new FakeSource(1, endless), 1, { ...options, numBeams: 2, maxNewTokens: 3 });
    expect(beam).toMatchObject({ tokenIds: [5, 5, 5], finished: false });
  });

  it('needs a source that can reorder', async () => {
    const source: LogitsSource = { next: async () => new Float32Array(VOCABULARY) };
    await expect(beamSearch(source, 1, { ...options, numBeams: 2 })).rejects.toThrow(/reorder/);
  });
});

describe('argmax and topK', () => {
  it('prefer lower indices on ties, and rank largest first', () => {
    const row = new Float32Array([1, 5, 3, 5, -1, 4]);
    expect(argmax(row)).toBe(1);
    expect(topK(row, 3)).toEqual([1, 3, 5]);
    expect(topK(row, 10)).toEqual([1, 3, 5, 2, 0, 4]);
  });

  it('reject logits that do not divide into rows', async () => {
    const source: LogitsSource = { next: async () => new Float32Array(7) };
    await expect(greedySearch(source, 2, options)).rejects.toThrow(/rows/);
  });
});
