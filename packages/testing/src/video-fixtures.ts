import type { DisplayRotation, SynthesizeOptions } from '@vad/video';
import * as video from '@vad/video';

export type GeneratedVideoOptions = SynthesizeOptions;
export type { DisplayRotation };

const binaries = () => video.resolveFfmpegBinaries();

/**
 * A synthetic H.264 MP4 (ffmpeg lavfi sources), with the binaries vad itself would use.
 * `rotation: 90` gives phone-like footage: coded sideways, displayed upright at `width`×`height`.
 */
export function generateVideo(path: string, options: GeneratedVideoOptions): Promise<string> {
  return video.synthesizeVideo(path, options, binaries());
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
  return video.synthesizeAudioOnly(path, durationS, binaries());
}

/** A copy of `source` (no re-encode) whose container says to display it turned `rotation` degrees clockwise. */
export function generateRotatedCopy(source: string, target: string, rotation: DisplayRotation): Promise<string> {
  return video.setDisplayRotation(source, target, rotation, binaries());
}

export const { truncateCopy, writeTextAsVideo } = video;
