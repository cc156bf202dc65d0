export type Vector = Float32Array;

export function dot(a: Vector, b: Vector): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

export function normalize(v: Vector): Vector {
  const norm = Math.sqrt(dot(v, v));
  const out = new Float32Array(v.length);
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / norm;
  return out;
}

/** Weighted mean of vectors (weights need not sum to 1). */
export function weightedMean(vectors: readonly Vector[], weights?: readonly number[]): Vector {
  const size = vectors[0]?.length ?? 0;
  const out = new Float32Array(size);
  let total = 0;
  vectors.forEach((v, k) => {
    const w = weights?.[k] ?? 1;
    total += w;
    for (let i = 0; i < size; i++) out[i] = (out[i] as number) + w * (v[i] as number);
  });
  if (total > 0) for (let i = 0; i < size; i++) out[i] = (out[i] as number) / total;
  return out;
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
