import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/**
 * Thumbnails under the storage root: an event's, `thumbnails/<video>/<run>/<n>.jpg`,
 * and any sampled frame's made on demand (search results), `thumbnails/<video>/frames/<frame>.jpg`.
 */
export class ThumbnailStore {
  constructor(readonly root: string) {}

  /** Path relative to the storage root, as stored in the database. */
  relativePath(videoId: string, runId: string, n: number): string {
    return join('thumbnails', videoId, runId, `${n}.jpg`);
  }

  /** Writes an image (any format sharp reads) as a JPEG at most 480 px wide; returns the relative path. */
  async write(videoId: string, runId: string, n: number, image: Buffer): Promise<string> {
    const relative = this.relativePath(videoId, runId, n);
    await this.writeJpeg(relative, image);
    return relative;
  }

  /** Path (relative to the storage root) of a sampled frame's thumbnail. */
  framePath(videoId: string, frameIndex: number): string {
    return join('thumbnails', videoId, 'frames', `${frameIndex}.jpg`);
  }

  /** The frame's thumbnail path when it was made before, else undefined. */
  async existingFrame(videoId: string, frameIndex: number): Promise<string | undefined> {
    const relative = this.framePath(videoId, frameIndex);
    return access(join(this.root, relative)).then(
      () => relative,
      () => undefined,
    );
  }

  /** Writes a sampled frame's thumbnail; returns the relative path. */
  async writeFrame(videoId: string, frameIndex: number, image: Buffer): Promise<string> {
    const relative = this.framePath(videoId, frameIndex);
    await this.writeJpeg(relative, image);
    return relative;
  }

  private async writeJpeg(relative: string, image: Buffer): Promise<void> {
    const target = join(this.root, relative);
    await mkdir(dirname(target), { recursive: true });
    const jpeg = await sharp(image).resize({ width: 480, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
    // A temporary name of its own: two requests may make the same thumbnail at once.
    const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, jpeg);
    await rename(temporary, target);
  }

  /** Removes every thumbnail of the video. */
  async deleteVideo(videoId: string): Promise<void> {
    await rm(join(this.root, 'thumbnails', videoId), { recursive: true, force: true });
  }

  async deleteRun(videoId: string, runId: string): Promise<void> {
    await rm(join(this.root, 'thumbnails', videoId, runId), { recursive: true, force: true });
  }
}
