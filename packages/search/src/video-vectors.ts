import { DotProducts, normalize } from '@vad/scoring';

/** A frame's vector as the frame embedding repository loads it (FrameVector of @vad/db). */
export interface StoredFrame {
  frameIndex: number;
  ptsMs: number;
  vector: Float32Array;
  /** The frame whose vector this is (itself, or the earlier frame it reuses). */
  sourceFrame: number;
}

/**
 * One video's stored frames, ready to be compared with queries: each
 * distinct vector once (motion sampling reuses vectors), unit length, in a
 * dot-product kernel; frames in order with the row of their vector.
 */
export class VideoVectors {
  private constructor(
    readonly videoId: string,
    /** Sampled frames in order: their index and time. */
    readonly frames: Int32Array,
    readonly ptsMs: Int32Array,
    /** rowOf[i]: the kernel row of frame i's vector. */
    readonly rowOf: Int32Array,
    /** rowFrame[r]: the frame whose stored vector row r is. */
    readonly rowFrame: Int32Array,
    private readonly kernel: DotProducts | undefined,
    readonly dim: number,
  ) {}

  static from(videoId: string, stored: readonly StoredFrame[]): VideoVectors {
    const frames = Int32Array.from(stored, (f) => f.frameIndex);
    const ptsMs = Int32Array.from(stored, (f) => f.ptsMs);
    const rowOfSource = new Map<number, number>();
    const rowFrame: number[] = [];
    const rowOf = new Int32Array(stored.length);
    const dim = stored[0]?.vector.length ?? 0;
    const vectors: Float32Array[] = [];
    stored.forEach((f, i) => {
      let row = rowOfSource.get(f.sourceFrame);
      if (row === undefined) {
        row = vectors.length;
        rowOfSource.set(f.sourceFrame, row);
        rowFrame.push(f.sourceFrame);
        vectors.push(f.vector);
      }
      rowOf[i] = row;
    });
    const matrix = new Float32Array(vectors.length * dim);
    vectors.forEach((v, r) => {
      if (v.length !== dim) throw new Error(`video ${videoId}: frame vectors of ${v.length} and ${dim} dimensions`);
      matrix.set(normalize(v), r * dim);
    });
    const kernel = vectors.length ? new DotProducts(matrix, dim) : undefined;
    return new VideoVectors(videoId, frames, ptsMs, rowOf, Int32Array.from(rowFrame), kernel, dim);
  }

  get frameCount(): number {
    return this.frames.length;
  }

  /** Distinct stored vectors (frames encoded). */
  get rowCount(): number {
    return this.rowFrame.length;
  }

  /** Memory held, roughly: the kernel's rows plus the frame tables. */
  get bytes(): number {
    return (this.kernel?.bytes ?? 0) + this.frames.byteLength * 3 + this.rowFrame.byteLength;
  }

  /** Cosine of each distinct vector with `query` (unit length). */
  rowScores(query: Float32Array): Float32Array {
    if (query.length !== this.dim && this.rowCount)
      throw new Error(`a query of ${query.length} dimensions for vectors of ${this.dim}`);
    const out = new Float32Array(this.rowCount);
    this.kernel?.one(query, out);
    return out;
  }

  /** Cosine of each frame with `query`. */
  frameScores(query: Float32Array): Float32Array {
    const rows = this.rowScores(query);
    if (rows.length === this.frameCount) return rows; // every frame holds its own vector, in order
    const scores = new Float32Array(this.frameCount);
    for (let i = 0; i < scores.length; i++) scores[i] = rows[this.rowOf[i] as number] as number;
    return scores;
  }

  /** The vector of the frame nearest `ptsMs` (a copy), and that frame. */
  vectorAt(ptsMs: number): { frameIndex: number; vector: Float32Array } | undefined {
    if (!this.frameCount || !this.kernel) return undefined;
    let best = 0;
    for (let i = 1; i < this.frameCount; i++)
      if (Math.abs((this.ptsMs[i] as number) - ptsMs) < Math.abs((this.ptsMs[best] as number) - ptsMs)) best = i;
    return { frameIndex: this.frames[best] as number, vector: this.kernel.row(this.rowOf[best] as number) };
  }

  /** Each distinct vector with the frame it belongs to (for the index): rows × dim, unit length. */
  rows(): { frames: Int32Array; matrix: Float32Array } {
    const matrix = new Float32Array(this.rowCount * this.dim);
    for (let r = 0; r < this.rowCount; r++) matrix.set(this.kernel?.row(r) ?? [], r * this.dim);
    return { frames: this.rowFrame, matrix };
  }
}
