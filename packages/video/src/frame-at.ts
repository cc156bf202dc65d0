import ffmpeg from 'fluent-ffmpeg';
import type { FfmpegBinaries } from './binaries.js';
import { DecodeError } from './errors.js';

/** The video's frame at `timeMs` (from its start), full size, as PNG bytes. */
export async function extractFrameAt(path: string, timeMs: number, binaries: FfmpegBinaries): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const command = ffmpeg(path)
      .setFfmpegPath(binaries.ffmpeg)
      .seekInput(Math.max(0, timeMs) / 1000)
      .inputOptions(['-nostdin'])
      .noAudio()
      .frames(1)
      .outputOptions(['-f', 'image2pipe', '-vcodec', 'png'])
      .on('error', (error: Error) =>
        reject(new DecodeError(`could not extract the frame at ${timeMs} ms: ${error.message}`, [])),
      )
      .on('end', () => resolve());
    const stream = command.pipe();
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  });
  const png = Buffer.concat(chunks);
  if (png.length === 0) throw new DecodeError(`no frame at ${timeMs} ms`, []);
  return png;
}
