export interface Clip<T> {
  /** 0-based position of the clip in the video. */
  index: number;
  /** Position in the input sequence of the clip's first frame. */
  start: number;
  /** Exactly `clipFrames` frames: the valid ones, then repeats of them in order if the clip is short. */
  frames: T[];
  /** Input positions of `frames`, so padding can be traced back (each within start..start+validFrames-1). */
  positions: number[];
  /** How many of `frames` are distinct frames of the video (the rest are repeats). */
  validFrames: number;
}

/**
 * Cuts a frame sequence into clips of `clipFrames` frames, one every
 * `clipStride` frames. Cutting stops with the first clip that reaches the
 * last frame, so every frame is in at least one clip and no clip is
 * redundant. A clip shorter than `clipFrames` (the tail, or a video shorter
 * than one clip) is filled by repeating its own frames in order
 * (f0 f1 f2 f0 f1 f2 …), never with zeros or frames from outside the clip.
 */
export function cutClips<T>(frames: readonly T[], clipFrames: number, clipStride: number): Clip<T>[] {
  if (!Number.isInteger(clipFrames) || clipFrames < 1)
    throw new RangeError(`clipFrames must be a positive integer, got ${clipFrames}`);
  if (!Number.isInteger(clipStride) || clipStride < 1 || clipStride > clipFrames) {
    throw new RangeError(`clipStride must be an integer in 1..clipFrames (${clipFrames}), got ${clipStride}`);
  }
  const clips: Clip<T>[] = [];
  for (let start = 0; start < frames.length; start += clipStride) {
    const validFrames = Math.min(clipFrames, frames.length - start);
    const positions = Array.from({ length: clipFrames }, (_, i) => start + (i % validFrames));
    clips.push({
      index: clips.length,
      start,
      frames: positions.map((p) => frames[p] as T),
      positions,
      validFrames,
    });
    if (start + clipFrames >= frames.length) break;
  }
  return clips;
}
