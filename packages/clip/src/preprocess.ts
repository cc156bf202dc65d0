/**
 * RGB uint8 frames, HWC, one after another (as segments store them) → one
 * float32 NCHW tensor normalised with the model's mean and std:
 * out[n, c, y, x] = (rgb[n, y, x, c] / 255 − mean[c]) / std[c].
 */
export function rgbToNchw(
  rgb: Uint8Array,
  frames: number,
  size: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  out: Float32Array = new Float32Array(frames * 3 * size * size),
): Float32Array {
  const plane = size * size;
  if (rgb.length !== frames * plane * 3) {
    throw new Error(
      `expected ${frames} frames of ${size}x${size} RGB (${frames * plane * 3} bytes), got ${rgb.length}`,
    );
  }
  // Per channel: value/255 → (value/255 − mean)/std = value·a + b, with a and b precomputed.
  const a = [0, 1, 2].map((c) => 1 / (255 * (std[c] ?? 1)));
  const b = [0, 1, 2].map((c) => -(mean[c] ?? 0) / (std[c] ?? 1));
  const [a0, a1, a2] = a as [number, number, number];
  const [b0, b1, b2] = b as [number, number, number];
  for (let n = 0; n < frames; n++) {
    const src = n * plane * 3;
    const dst = n * plane * 3;
    for (let p = 0; p < plane; p++) {
      const s = src + p * 3;
      out[dst + p] = (rgb[s] as number) * a0 + b0;
      out[dst + plane + p] = (rgb[s + 1] as number) * a1 + b1;
      out[dst + 2 * plane + p] = (rgb[s + 2] as number) * a2 + b2;
    }
  }
  return out;
}
