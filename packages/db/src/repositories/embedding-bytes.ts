import { Float16Array } from '@petamoriken/float16';

/** How a frame embedding is stored: little-endian IEEE 754 half or single precision. */
export type EmbeddingDtype = 'float16' | 'float32';

/** Bytes per component of each dtype. */
export const EMBEDDING_DTYPE_BYTES: Record<EmbeddingDtype, number> = { float16: 2, float32: 4 };

/** float32 little-endian bytes ↔ vectors, as embeddings are stored (bytea). */
export function toBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function fromBytes(bytes: Buffer): Float32Array {
  // Copy: the driver's buffer may not be 4-byte aligned.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * A vector as stored in `dtype`: float32 as it is, float16 rounded to the
 * nearest half (about 3 significant digits; CLIP embeddings are unit vectors,
 * components well inside its range). Little-endian, as x86 and ARM hold them.
 */
export function encodeEmbedding(vector: Float32Array, dtype: EmbeddingDtype): Buffer {
  if (dtype === 'float32') return toBytes(vector);
  const half = new Float16Array(vector);
  return Buffer.from(half.buffer, half.byteOffset, half.byteLength);
}

/** The vector of stored bytes in `dtype`, as float32. */
export function decodeEmbedding(bytes: Buffer, dtype: EmbeddingDtype): Float32Array {
  if (dtype === 'float32') return fromBytes(bytes);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return Float32Array.from(new Float16Array(copy.buffer));
}
