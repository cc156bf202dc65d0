/** File name extensions `vad submit DIR` and `vad watch` pick up in a folder. */
export const VIDEO_EXTENSIONS = new Set([
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.avi',
  '.webm',
  '.ts',
  '.mts',
  '.m2ts',
  '.mpg',
  '.mpeg',
  '.flv',
  '.wmv',
  '.3gp',
  '.h264',
  '.h265',
  '.hevc',
  '.dav',
]);

export function isVideoFileName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && VIDEO_EXTENSIONS.has(name.slice(dot).toLowerCase());
}
