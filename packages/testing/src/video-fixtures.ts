import {
  resolveFfmpegBinaries,
  type SynthesizeOptions,
  synthesizeAudioOnly,
  synthesizeVideo,
  truncateCopy,
  writeTextAsVideo,
} from '@vad/video';

export type GeneratedVideoOptions = SynthesizeOptions;

/** A synthetic H.264 MP4 (ffmpeg lavfi sources), with the binaries vad itself would use. */
export function generateVideo(path: string, options: GeneratedVideoOptions): Promise<string> {
  return synthesizeVideo(path, options, resolveFfmpegBinaries());
}

export function generateAudioOnly(path: string, durationS: number): Promise<string> {
  return synthesizeAudioOnly(path, durationS, resolveFfmpegBinaries());
}

export { truncateCopy, writeTextAsVideo };
