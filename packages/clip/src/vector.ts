/** Scales a vector to unit length (in place); a zero vector stays zero. */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) / norm;
  return vector;
}

/** Splits a [rows × size] buffer into unit-length rows (copies). */
export function normalizedRows(data: Float32Array, rows: number, size: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => l2Normalize(data.slice(r * size, (r + 1) * size)));
}
