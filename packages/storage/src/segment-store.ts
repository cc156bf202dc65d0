import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSegment, encodeSegmentPreamble, type Segment, type SegmentHeader } from './segment-format.js';

const EXTENSION = '.seg';
const TEMPORARY_EXTENSION = '.tmp';

/**
 * Segment files under the storage root: `segments/<videoId>/<index>.seg`.
 * Written atomically (temporary file, fsync, rename), so a reader never sees
 * half a segment, also on shared storage used by several machines.
 */
export class SegmentStore {
  constructor(readonly root: string) {}

  videoDir(videoId: string): string {
    return join(this.root, 'segments', videoId);
  }

  path(videoId: string, segmentIndex: number): string {
    return join(this.videoDir(videoId), `${String(segmentIndex).padStart(6, '0')}${EXTENSION}`);
  }

  /** Writes the frames (each height × width × 3 bytes) as one segment; returns its path. */
  async write(header: SegmentHeader, frames: readonly Buffer[]): Promise<string> {
    const frameBytes = header.width * header.height * 3;
    if (frames.length !== header.frames.length) throw new Error('segment header and frames disagree in count');
    for (const frame of frames) {
      if (frame.length !== frameBytes) throw new Error(`frame of ${frame.length} bytes, expected ${frameBytes}`);
    }
    const target = this.path(header.videoId, header.segmentIndex);
    await mkdir(this.videoDir(header.videoId), { recursive: true });
    const temporary = `${target}.${randomBytes(4).toString('hex')}${TEMPORARY_EXTENSION}`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writev([encodeSegmentPreamble(header), ...frames]);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await handle.close();
    await rename(temporary, target);
    return target;
  }

  async read(videoId: string, segmentIndex: number): Promise<Segment> {
    const path = this.path(videoId, segmentIndex);
    return decodeSegment(await readFile(path), path);
  }

  async exists(videoId: string, segmentIndex: number): Promise<boolean> {
    try {
      const handle = await open(this.path(videoId, segmentIndex), 'r');
      await handle.close();
      return true;
    } catch {
      return false;
    }
  }

  /** Removes a segment; one that is already gone is fine (a retried job). */
  async delete(videoId: string, segmentIndex: number): Promise<void> {
    await unlink(this.path(videoId, segmentIndex)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Segments of the video written and not yet deleted (i.e. not yet embedded). */
  async countPending(videoId: string): Promise<number> {
    try {
      const names = await readdir(this.videoDir(videoId));
      return names.filter((name) => name.endsWith(EXTENSION)).length;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }

  /**
   * Removes half-written segments a killed writer left behind. Only one ingest
   * attempt runs per video at a time, so any temporary file found when an
   * attempt starts belongs to a dead one. Returns how many were removed.
   */
  async removeTemporaries(videoId: string): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.videoDir(videoId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const stale = names.filter((name) => name.endsWith(TEMPORARY_EXTENSION));
    for (const name of stale) await rm(join(this.videoDir(videoId), name), { force: true });
    return stale.length;
  }

  /** Removes every segment of the video, with its folder. */
  async deleteVideo(videoId: string): Promise<void> {
    await rm(this.videoDir(videoId), { recursive: true, force: true });
  }
}
