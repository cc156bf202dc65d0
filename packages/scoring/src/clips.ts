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

/** A clip with the time it covers, in ms of the video. */
export interface TimedClip<T> extends Clip<T> {
  startMs: number;
  endMs: number;
}

/** What of a pipeline config decides how frames become clips. */
export interface ClipTiming {
  clipFrames: number;
  clipStride: number;
  sampleFps: number;
  /** `keyframes` frames are not evenly spaced; the other modes give one frame per slot of the sampling grid. */
  sampling?: 'fixed' | 'keyframes' | 'motion';
}

/**
 * How long one frame stands for, in ms: a slot of the sampling grid, or for
 * keyframe sampling the median spacing of the frames (the keyframe interval).
 */
export function frameDurationMs(frames: readonly { ptsMs: number }[], timing: ClipTiming): number {
  const slotMs = 1000 / timing.sampleFps;
  if (timing.sampling !== 'keyframes' || frames.length < 2) return slotMs;
  const gaps = frames
    .slice(1)
    .map((f, i) => f.ptsMs - (frames[i] as { ptsMs: number }).ptsMs)
    .sort((a, b) => a - b);
  return Math.max(slotMs, gaps[Math.floor(gaps.length / 2)] as number);
}

/**
 * The clips of a video's frames (in time order), as its pipeline config cuts
 * them. Frames on the sampling grid (fixed, motion) are cut by count
 * (`cutClips`). Keyframes come at the encoder's pace, not the grid's, so they
 * are cut by time: a clip covers clipFrames / sampleFps seconds, one starts
 * every clipStride / sampleFps seconds from the first frame, and holds the
 * frames inside its span (at most clipFrames, evenly thinned if more),
 * padded to clipFrames by repeating its own frames like a short clip;
 * `validFrames` is how many distinct frames it holds. A span with no frame
 * (keyframes further apart than a stride) gives no clip. Cutting stops with
 * the first clip that reaches the last frame.
 */
export function cutTimedClips<T extends { ptsMs: number }>(frames: readonly T[], timing: ClipTiming): TimedClip<T>[] {
  const { clipFrames, clipStride, sampleFps } = timing;
  const frameMs = frameDurationMs(frames, timing);
  if (timing.sampling !== 'keyframes') {
    return cutClips(frames, clipFrames, clipStride).map((clip) => ({
      ...clip,
      startMs: clip.frames[0]?.ptsMs ?? 0,
      endMs: Math.round((clip.frames[clip.validFrames - 1]?.ptsMs ?? 0) + frameMs),
    }));
  }
  // Validate the counts as cutClips does.
  cutClips([], clipFrames, clipStride);
  const first = frames[0];
  const last = frames.at(-1);
  if (!first || !last) return [];
  const spanMs = (clipFrames * 1000) / sampleFps;
  const strideMs = (clipStride * 1000) / sampleFps;
  const videoEndMs = Math.round(last.ptsMs + frameMs);
  const clips: TimedClip<T>[] = [];
  let from = 0;
  for (let k = 0; ; k++) {
    const startMs = first.ptsMs + k * strideMs;
    const endMs = startMs + spanMs;
    while (from < frames.length && (frames[from] as T).ptsMs < startMs) from++;
    let to = from;
    while (to < frames.length && (frames[to] as T).ptsMs < endMs) to++;
    const inside = to - from;
    if (inside > 0) {
      const validFrames = Math.min(inside, clipFrames);
      // More frames than the clip holds (frames closer than 1/sampleFps): evenly spread ones.
      const members = Array.from({ length: validFrames }, (_, i) => from + Math.floor((i * inside) / validFrames));
      const positions = Array.from({ length: clipFrames }, (_, i) => members[i % validFrames] as number);
      clips.push({
        index: clips.length,
        start: from,
        frames: positions.map((p) => frames[p] as T),
        positions,
        validFrames,
        startMs: Math.round(startMs),
        endMs: Math.min(Math.round(endMs), videoEndMs),
      });
    }
    if (endMs > last.ptsMs) break;
  }
  return clips;
}
