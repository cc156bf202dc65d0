/**
 * Token generation over next-token logits: greedy search and beam search with
 * length normalisation. Pure: the model is behind a LogitsSource, so both run
 * on hand-made logits in tests as well as on a decoder session.
 */

/** Next-token logits for a batch of sequences. */
export interface LogitsSource {
  /**
   * The logits of the next token (rows × vocabulary, row-major) for each
   * row's sequence so far, start token included. All rows have the same
   * length; a source with a cache only needs the tokens it has not seen.
   */
  next(sequences: readonly (readonly number[])[]): Promise<Float32Array>;
  /**
   * From the next step on, row i is the current row rows[i] (rows may repeat
   * or be left out): how beam search expands, reorders and drops beams.
   */
  reorder?(rows: readonly number[]): void;
}

export interface SearchOptions {
  decoderStartTokenId: number;
  eosTokenId: number;
  /** Fed to rows that have finished while others go on. */
  padTokenId: number;
  maxNewTokens: number;
  /** 1 (the default): greedy; more: beam search (needs a source that can reorder). */
  numBeams?: number;
  /** Beam scores: summed log-probabilities / (generated tokens, end token included) ** lengthPenalty. Default 1. */
  lengthPenalty?: number;
}

export interface Generated {
  /** The generated tokens, without the start token and without the end token. */
  tokenIds: number[];
  /** Greedy: the summed log-probability; beam: the length-normalised beam score. */
  score: number;
  /** True when the end token was generated; false when maxNewTokens stopped it. */
  finished: boolean;
}

function vocabularyOf(logits: Float32Array, rows: number): number {
  const vocabulary = logits.length / rows;
  if (!Number.isInteger(vocabulary) || vocabulary < 1)
    throw new Error(`${logits.length} logits do not make ${rows} rows of a vocabulary`);
  return vocabulary;
}

function logSumExp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  return max + Math.log(sum);
}

/** The index of the largest value (the first one on ties). */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
}

/** Indices of the k largest values, largest first (lower indices first on ties). */
export function topK(row: Float32Array, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const value = row[i] as number;
    if (top.length === k && value <= (row[top[k - 1] as number] as number)) continue;
    let at = top.length;
    while (at > 0 && value > (row[top[at - 1] as number] as number)) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}

/**
 * Greedy search: each row takes its most likely token until the end token or
 * maxNewTokens. Rows that have finished are fed the pad token (and ignored)
 * while the others go on; the loop stops when every row has finished.
 */
export async function greedySearch(source: LogitsSource, batch: number, options: SearchOptions): Promise<Generated[]> {
  const sequences = Array.from({ length: batch }, () => [options.decoderStartTokenId]);
  const results: Generated[] = sequences.map(() => ({ tokenIds: [], score: 0, finished: false }));
  for (let step = 0; step < options.maxNewTokens && results.some((r) => !r.finished); step++) {
    const logits = await source.next(sequences);
    const vocabulary = vocabularyOf(logits, batch);
    results.forEach((result, r) => {
      const sequence = sequences[r] as number[];
      if (result.finished) {
        sequence.push(options.padTokenId);
        return;
      }
      const row = logits.subarray(r * vocabulary, (r + 1) * vocabulary);
      const token = argmax(row);
      result.score += (row[token] as number) - logSumExp(row);
      sequence.push(token);
      if (token === options.eosTokenId) result.finished = true;
      else result.tokenIds.push(token);
    });
  }
  return results;
}

interface Beam {
  tokens: number[];
  /** Summed log-probability. */
  logProb: number;
  /** Its row in the source. */
  row: number;
}

interface Item {
  beams: Beam[];
  hypotheses: Generated[];
  done: boolean;
}

/**
 * Beam search (numBeams beams per image, as Hugging Face's generate does it
 * without sampling): at each step the 2·numBeams best continuations of all
 * beams are ranked; an end token among the first numBeams closes a
 * hypothesis (scored by its length-normalised log-probability), the others
 * carry on as the new beams. An image is done when it has numBeams
 * hypotheses and no live beam can beat the worst; at maxNewTokens the live
 * beams become hypotheses too. The best hypothesis of each image is returned.
 */
export async function beamSearch(source: LogitsSource, batch: number, options: SearchOptions): Promise<Generated[]> {
  const beams = options.numBeams ?? 1;
  const penalty = options.lengthPenalty ?? 1;
  const { reorder } = source;
  if (!reorder) throw new Error('beam search needs a logits source that can reorder its rows');
  const normalised = (logProb: number, length: number) => logProb / Math.max(length, 1) ** penalty;
  const addHypothesis = (item: Item, hypothesis: Generated) => {
    item.hypotheses.push(hypothesis);
    item.hypotheses.sort((a, b) => b.score - a.score);
    if (item.hypotheses.length > beams) item.hypotheses.pop();
  };
  const items: Item[] = Array.from({ length: batch }, (_, i) => ({
    beams: [{ tokens: [], logProb: 0, row: i }],
    hypotheses: [],
    done: false,
  }));
  let rows = batch;
  for (let step = 0; step < options.maxNewTokens; step++) {
    const live = items.filter((item) => !item.done);
    if (!live.length) break;
    const sequences: number[][] = new Array(rows);
    for (const item of live)
      for (const beam of item.beams) sequences[beam.row] = [options.decoderStartTokenId, ...beam.tokens];
    const logits = await source.next(sequences);
    const vocabulary = vocabularyOf(logits, rows);
    const parents: number[] = [];
    for (const item of live) {
      const candidates: { logProb: number; token: number; beam: Beam }[] = [];
      for (const beam of item.beams) {
        const row = logits.subarray(beam.row * vocabulary, (beam.row + 1) * vocabulary);
        const total = logSumExp(row);
        for (const token of topK(row, 2 * beams))
          candidates.push({ logProb: beam.logProb + (row[token] as number) - total, token, beam });
      }
      candidates.sort((a, b) => b.logProb - a.logProb);
      const next: Beam[] = [];
      for (const [rank, candidate] of candidates.slice(0, 2 * beams).entries()) {
        if (candidate.token === options.eosTokenId) {
          if (rank < beams) {
            const length = candidate.beam.tokens.length + 1;
            addHypothesis(item, {
              tokenIds: candidate.beam.tokens,
              score: normalised(candidate.logProb, length),
              finished: true,
            });
          }
        } else {
          next.push({
            tokens: [...candidate.beam.tokens, candidate.token],
            logProb: candidate.logProb,
            row: candidate.beam.row,
          });
        }
        if (next.length === beams) break;
      }
      const worst = item.hypotheses.at(-1)?.score ?? Number.NEGATIVE_INFINITY;
      const best = next[0];
      if (!best || (item.hypotheses.length >= beams && worst >= normalised(best.logProb, step + 1))) {
        item.done = true;
        item.beams = [];
        continue;
      }
      item.beams = next.map((beam) => {
        parents.push(beam.row);
        return { ...beam, row: parents.length - 1 };
      });
    }
    if (!parents.length || step === options.maxNewTokens - 1) break;
    reorder.call(source, parents);
    rows = parents.length;
  }
  return items.map((item) => {
    for (const beam of item.beams)
      addHypothesis(item, {
        tokenIds: beam.tokens,
        score: normalised(beam.logProb, beam.tokens.length),
        finished: false,
      });
    const best = item.hypotheses[0];
    if (!best) throw new Error('beam search ended without a hypothesis');
    return best;
  });
}

/** Greedy search, or beam search when numBeams > 1. */
export function generate(source: LogitsSource, batch: number, options: SearchOptions): Promise<Generated[]> {
  return (options.numBeams ?? 1) > 1 ? beamSearch(source, batch, options) : greedySearch(source, batch, options);
}
