import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeSegment,
  encodedFrames,
  encodeSegmentPreamble,
  type Segment,
  type SegmentHeader,
} from './segment-format.js';

const EXTENSION = '.seg';
const TEMPORARY_EXTENSION = '.tmp';

/**
 * Writes `length` bytes of `buffer`, from `offset`, at `position` in the file;
 * resolves to how many it wrote, which may be fewer (a short write), as write(2).
 */
export type SegmentWriteFunction = (
  handle: FileHandle,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => Promise<number>;

export interface SegmentStoreOptions {
  /** The write call segment files go through (a seam for tests: short writes, a full disk). */
  write?: SegmentWriteFunction;
}

const writeToFile: SegmentWriteFunction = async (handle, buffer, offset, length, position) =>
  (await handle.write(buffer, offset, length, position)).bytesWritten;

/** An error of the storage itself, with an errno-style code as Node's own. */
function storageError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * Whether the error means the storage has no room left: the device is full
 * (ENOSPC) or the user's quota is used up (EDQUOT). Such a write can succeed
 * once space is freed, so it is waited out rather than failed.
 */
export function isStorageFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Segment files under the storage root: `segments/<videoId>/<index>.seg`.
 * Written atomically (temporary file, every byte written and checked, fsync,
 * rename), so a reader never sees half a segment, also on shared storage used
 * by several machines.
 */
export class SegmentStore {
  private readonly writeFunction: SegmentWriteFunction;

  constructor(
    readonly root: string,
    options: SegmentStoreOptions = {},
  ) {
    this.writeFunction = options.write ?? writeToFile;
  }

  videoDir(videoId: string): string {
    return join(this.root, 'segments', videoId);
  }

  path(videoId: string, segmentIndex: number): string {
    return join(this.videoDir(videoId), `${String(segmentIndex).padStart(6, '0')}${EXTENSION}`);
  }

  /**
   * Writes the frames (each height × width × 3 bytes; one per header frame
   * without `sameAs`) as one segment; returns
   * its path. A write that stores fewer bytes than asked is continued until
   * every byte is written; one that fails (a full disk: ENOSPC, EDQUOT) or makes
   * no progress rejects, and its temporary file is removed: only a complete
   * file is ever renamed into place.
   */
  async write(header: SegmentHeader, frames: readonly Buffer[]): Promise<string> {
    const frameBytes = header.width * header.height * 3;
    if (frames.length !== encodedFrames(header).length) throw new Error('segment header and frames disagree in count');
    for (const frame of frames) {
      if (frame.length !== frameBytes) throw new Error(`frame of ${frame.length} bytes, expected ${frameBytes}`);
    }
    const target = this.path(header.videoId, header.segmentIndex);
    await mkdir(this.videoDir(header.videoId), { recursive: true });
    const temporary = `${target}.${randomBytes(4).toString('hex')}${TEMPORARY_EXTENSION}`;
    const handle = await open(temporary, 'w');
    try {
      const expected = await this.writeAll(handle, [encodeSegmentPreamble(header), ...frames]);
      await handle.sync();
      const { size } = await handle.stat();
      if (size !== expected) {
        throw storageError(`segment file is ${size} bytes after writing ${expected}`, 'EIO');
      }
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temporary, { force: true }).catch(() => {});
      throw error;
    }
    try {
      // Network file systems may report a failed write only when the file is closed.
      await handle.close();
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw error;
    }
    return target;
  }

  /** Writes the buffers one after the other, each to its last byte; returns the bytes written. */
  private async writeAll(handle: FileHandle, buffers: readonly Uint8Array[]): Promise<number> {
    const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    let position = 0;
    for (const buffer of buffers) {
      let offset = 0;
      while (offset < buffer.length) {
        const remaining = buffer.length - offset;
        const written = await this.writeFunction(handle, buffer, offset, remaining, position);
        if (!Number.isInteger(written) || written < 0 || written > remaining) {
          throw storageError(`write reported ${written} bytes written of ${remaining}`, 'EIO');
        }
        if (written === 0) {
          // write(2) stores nothing without an error only when there is no room for it.
          throw storageError(
            `no space left: write stored 0 of ${remaining} bytes at ${position} of ${total}`,
            'ENOSPC',
          );
        }
        offset += written;
        position += written;
      }
    }
    return position;
  }

  /** Bytes free for this process on the storage root's file system; undefined when it cannot be read. */
  async freeBytes(): Promise<number | undefined> {
    try {
      const stats = await statfs(this.root);
      return stats.bavail * stats.bsize;
    } catch {
      return undefined;
    }
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
    const names = await listOrNone(this.videoDir(videoId));
    const stale = names.filter((name) => name.endsWith(TEMPORARY_EXTENSION));
    for (const name of stale) await rm(join(this.videoDir(videoId), name), { force: true });
    return stale.length;
  }

  /**
   * Removes temporary segment files of every video (`segments/<video>/*.tmp`) not
   * modified for longer than `olderThanMs`: those of writers that were killed
   * (a crashed ingest of a video nobody retried yet). A live writer writes its
   * file from start to end without pause, so its modification time is always
   * recent; other workers, on this machine or others sharing the storage, may
   * be writing theirs right now, and an age well above the longest pause of a
   * write (twice the job lock duration) tells the two apart. The file
   * system's clock sets the time, so clocks of the machines must agree within
   * that margin. Returns how many were removed.
   */
  async removeStaleTemporaries(olderThanMs: number, now: number = Date.now()): Promise<number> {
    let removed = 0;
    for (const videoId of await listOrNone(join(this.root, 'segments'))) {
      const dir = this.videoDir(videoId);
      for (const name of await listOrNone(dir)) {
        if (!name.endsWith(TEMPORARY_EXTENSION)) continue;
        const path = join(dir, name);
        const modified = await stat(path).then(
          (stats) => stats.mtimeMs,
          () => undefined, // gone already: its writer renamed it, or another worker swept it
        );
        if (modified === undefined || now - modified <= olderThanMs) continue;
        await rm(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  /** Removes every segment of the video, with its folder. */
  async deleteVideo(videoId: string): Promise<void> {
    await rm(this.videoDir(videoId), { recursive: true, force: true });
  }
}

/** The names in a folder; none when it does not exist (or is not a folder). */
async function listOrNone(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}
