/** Side of the grid frames are compared on: 56 × 56 cells (4 × 4 pixels each at 224 × 224). */
export const MOTION_GRID = 56;

export interface MotionGateSettings {
  /** Levels (0–255) a cell's mean red, green or blue must change by to count as changed. */
  threshold: number;
  /** Share of the cells (0–1) that must change for the frame to count as new. */
  minArea: number;
}

/**
 * Decides, frame after frame, whether a sampled frame shows something the
 * last kept frame did not: each frame is reduced to a 56 × 56 grid of cells
 * holding the mean red, green and blue of their pixels (averaging a cell also
 * averages sensor noise away), compared cell by cell with the grid of the
 * last frame it kept; the frame is kept when at least `minArea` of the cells
 * changed by more than `threshold` levels in any channel. Colour counts, not
 * only brightness: a fire-like glow can be as bright as the grey wall it
 * lights. It compares with the last *kept* frame, not the previous one, so a
 * slow change (dusk, a shadow creeping) adds up until a frame is kept. A few
 * operations per pixel: far below decoding's cost.
 */
export class MotionGate {
  private reference: Float32Array | undefined;
  private readonly current: Float32Array;
  private readonly cellOf: Uint16Array;
  private readonly cellPixels: Float32Array;
  private readonly minCells: number;

  constructor(
    private readonly size: number,
    private readonly settings: MotionGateSettings,
  ) {
    if (size < MOTION_GRID) throw new RangeError(`frames of ${size}px are smaller than the ${MOTION_GRID}-cell grid`);
    const cells = MOTION_GRID * MOTION_GRID;
    this.current = new Float32Array(cells * 3);
    // Cell of each row / column: cells cover the frame evenly, with a remainder spread over them.
    this.cellOf = Uint16Array.from({ length: size }, (_, i) => Math.floor((i * MOTION_GRID) / size));
    this.cellPixels = new Float32Array(cells);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const cell = (this.cellOf[y] as number) * MOTION_GRID + (this.cellOf[x] as number);
        this.cellPixels[cell] = (this.cellPixels[cell] as number) + 1;
      }
    }
    this.minCells = Math.max(1, Math.ceil(settings.minArea * cells));
  }

  /** Forgets the kept frame: the next frame is kept whatever it shows (a segment's first frame). */
  reset(): void {
    this.reference = undefined;
  }

  /**
   * Whether the frame (size × size RGB, HWC) is to be kept; a kept frame
   * becomes the reference. Also returns the share of cells that changed.
   */
  check(rgb: Uint8Array): { keep: boolean; changed: number } {
    const { size, current, cellOf, cellPixels } = this;
    if (rgb.length !== size * size * 3) throw new Error(`expected ${size * size * 3} bytes of RGB, got ${rgb.length}`);
    current.fill(0);
    let p = 0;
    for (let y = 0; y < size; y++) {
      const row = (cellOf[y] as number) * MOTION_GRID;
      for (let x = 0; x < size; x++, p += 3) {
        const c = (row + (cellOf[x] as number)) * 3;
        current[c] = (current[c] as number) + (rgb[p] as number);
        current[c + 1] = (current[c + 1] as number) + (rgb[p + 1] as number);
        current[c + 2] = (current[c + 2] as number) + (rgb[p + 2] as number);
      }
    }
    for (let c = 0; c < current.length; c++)
      current[c] = (current[c] as number) / (cellPixels[Math.floor(c / 3)] as number);
    if (!this.reference) {
      this.reference = Float32Array.from(current);
      return { keep: true, changed: 1 };
    }
    const { threshold } = this.settings;
    const reference = this.reference;
    let changedCells = 0;
    for (let c = 0; c < current.length; c += 3) {
      const change = Math.max(
        Math.abs((current[c] as number) - (reference[c] as number)),
        Math.abs((current[c + 1] as number) - (reference[c + 1] as number)),
        Math.abs((current[c + 2] as number) - (reference[c + 2] as number)),
      );
      if (change > threshold) changedCells += 1;
    }
    const keep = changedCells >= this.minCells;
    if (keep) reference.set(current);
    return { keep, changed: changedCells / (current.length / 3) };
  }
}
