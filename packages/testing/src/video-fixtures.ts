import {
  type DisplayRotation,
  resolveFfmpegBinaries,
  type SynthesizeOptions,
  setDisplayRotation,
  synthesizeAudioOnly,
  synthesizeVideo,
  truncateCopy,
  writeTextAsVideo,
} from '@vad/video';

export type GeneratedVideoOptions = SynthesizeOptions;
export type { DisplayRotation };

/**
 * A synthetic H.264 MP4 (ffmpeg lavfi sources), with the binaries vad itself would use.
 * `rotation: 90` gives phone-like footage: coded sideways, displayed upright at `width`×`height`.
 */
export function generateVideo(path: string, options: GeneratedVideoOptions): Promise<string> {
  return synthesizeVideo(path, options, resolveFfmpegBinaries());
}

/**
 * A plain grey scene with a fire-like full-frame orange-red light between
 * `from` and `to` seconds: the incident the synthetic test model finds (it
 * tells colours apart), with a known interval to score against.
 */
export function generateIncidentVideo(
  path: string,
  { durationS, from, to }: { durationS: number; from: number; to: number },
): Promise<string> {
  return generateVideo(path, {
    durationS,
    source: 'color=c=gray',
    filters: `drawbox=x=0:y=0:w=iw:h=ih:color=orangered:t=fill:enable='between(t,${from},${to})'`,
  });
}

export function generateAudioOnly(path: string, durationS: number): Promise<string> {
  return synthesizeAudioOnly(path, durationS, resolveFfmpegBinaries());
}

/** A copy of `source` (no re-encode) whose container says to display it turned `rotation` degrees clockwise. */
export function generateRotatedCopy(source: string, target: string, rotation: DisplayRotation): Promise<string> {
  return setDisplayRotation(source, target, rotation, resolveFfmpegBinaries());
}

export { truncateCopy, writeTextAsVideo };
