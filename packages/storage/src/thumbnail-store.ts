import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/** Event thumbnails under the storage root: `thumbnails/<video>/<run>/<n>.jpg`. */
export class ThumbnailStore {
  constructor(readonly root: string) {}

  /** Path relative to the storage root, as stored in the database. */
  relativePath(videoId: string, runId: string, n: number): string {
    return join('thumbnails', videoId, runId, `${n}.jpg`);
  }

  /** Writes an image (any format sharp reads) as a JPEG at most 480 px wide; returns the relative path. */
  async write(videoId: string, runId: string, n: number, image: Buffer): Promise<string> {
    const relative = this.relativePath(videoId, runId, n);
    const target = join(this.root, relative);
    await mkdir(join(this.root, 'thumbnails', videoId, runId), { recursive: true });
    const jpeg = await sharp(image).resize({ width: 480, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
    await writeFile(`${target}.tmp`, jpeg);
    await rename(`${target}.tmp`, target);
    return relative;
  }

  /** Removes every thumbnail of the video. */
  async deleteVideo(videoId: string): Promise<void> {
    await rm(join(this.root, 'thumbnails', videoId), { recursive: true, force: true });
  }

  async deleteRun(videoId: string, runId: string): Promise<void> {
    await rm(join(this.root, 'thumbnails', videoId, runId), { recursive: true, force: true });
  }
}
