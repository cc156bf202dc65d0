import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodedFrames, isStorageFull, SegmentStore, type SegmentWriteFunction } from '../src/index.js';

const videoId = '00000000-0000-4000-8000-000000000001';

function frame(value: number, size = 4): Buffer {
  return Buffer.alloc(size * size * 3, value);
}

describe('SegmentStore', () => {
  it('round-trips frames and their timestamps', async () => {
    const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
    const header = {
      videoId,
      segmentIndex: 3,
      width: 4,
      height: 4,
      frames: [
        { index: 192, ptsMs: 96000 },
        { index: 193, ptsMs: 96500 },
      ],
    };
    const path = await store.write(header, [frame(1), frame(2)]);
    expect(path.endsWith('000003.seg')).toBe(true);
    const segment = await store.read(videoId, 3);
    expect(segment.header).toEqual(header);
    expect(segment.pixels.length).toBe(2 * 48);
    expect(segment.pixels[0]).toBe(1);
    expect(segment.pixels[48]).toBe(2);
  });

  it('stores the pixels of encoded frames only: a frame that reuses another carries none (motion sampling)', async () => {
    const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
    const header = {
      videoId,
      segmentIndex: 0,
      width: 4,
      height: 4,
      frames: [
        { index: 0, ptsMs: 0 },
        { index: 1, ptsMs: 500, sameAs: 0 },
        { index: 2, ptsMs: 1000, sameAs: 0 },
        { index: 3, ptsMs: 1500 },
      ],
    };
    expect(encodedFrames(header).map((f) => f.index)).toEqual([0, 3]);
    // One buffer per frame is one too many: the reused frames have no pixels.
    await expect(store.write(header, [frame(1), frame(2), frame(3), frame(4)])).rejects.toThrow(/disagree in count/);
    await store.write(header, [frame(1), frame(4)]);
    const segment = await store.read(videoId, 0);
    expect(segment.header).toEqual(header);
    expect(segment.pixels.length).toBe(2 * 48);
    expect([segment.pixels[0], segment.pixels[48]]).toEqual([1, 4]);
  });

  it('counts pending segments, ignoring temporary files, and deletes idempotently', async () => {
    const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
    expect(await store.countPending(videoId)).toBe(0);
    for (const segmentIndex of [0, 1, 2]) {
      await store.write({ videoId, segmentIndex, width: 4, height: 4, frames: [{ index: segmentIndex, ptsMs: 0 }] }, [
        frame(0),
      ]);
    }
    await writeFile(join(store.videoDir(videoId), '000009.seg.abcd.tmp'), 'partial');
    expect(await store.countPending(videoId)).toBe(3);
    await store.delete(videoId, 1);
    await store.delete(videoId, 1);
    expect(await store.countPending(videoId)).toBe(2);
    expect(await store.exists(videoId, 1)).toBe(false);
    expect(await store.exists(videoId, 2)).toBe(true);
    expect(await store.removeTemporaries(videoId)).toBe(1);
    expect((await readdir(store.videoDir(videoId))).sort()).toEqual(['000000.seg', '000002.seg']);
    await store.deleteVideo(videoId);
    expect(await store.removeTemporaries(videoId)).toBe(0);
    expect(await readdir(store.root)).toEqual(['segments']);
  });

  it('rejects frames of the wrong size and truncated files', async () => {
    const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
    await expect(
      store.write({ videoId, segmentIndex: 0, width: 4, height: 4, frames: [{ index: 0, ptsMs: 0 }] }, [frame(0, 3)]),
    ).rejects.toThrow(/expected 48/);
    const path = await store.write(
      { videoId, segmentIndex: 1, width: 4, height: 4, frames: [{ index: 0, ptsMs: 0 }] },
      [frame(0)],
    );
    await writeFile(path, (await import('node:fs')).readFileSync(path).subarray(0, 40));
    await expect(store.read(videoId, 1)).rejects.toThrow(/truncated/);
  });

  describe('writing to a file system that stores less than asked, or is full', () => {
    const size = 32; // 3 KiB frames
    const header = (segmentIndex: number, count = 3) => ({
      videoId,
      segmentIndex,
      width: size,
      height: size,
      frames: Array.from({ length: count }, (_, i) => ({ index: segmentIndex * count + i, ptsMs: i * 500 })),
    });
    const frames = (count = 3) => Array.from({ length: count }, (_, i) => frame(10 + i, size));
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    /** Stores at most `cap` bytes per call, as a nearly full or network file system may. */
    const shortWrites =
      (cap: number): SegmentWriteFunction =>
      async (handle, buffer, offset, length, position) =>
        (await handle.write(buffer, offset, Math.min(cap, length), position)).bytesWritten;

    it('writes every byte when each write stores only part of what it was asked', async () => {
      const calls: number[] = [];
      const capped = shortWrites(1000);
      const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')), {
        write: (handle, buffer, offset, length, position) => {
          calls.push(length);
          return capped(handle, buffer, offset, length, position);
        },
      });
      await store.write(header(0), frames());
      const segment = await store.read(videoId, 0);
      expect(segment.header).toEqual(header(0));
      expect(segment.pixels).toEqual(Buffer.concat(frames()));
      expect(calls.length).toBeGreaterThan(9); // 9 KiB of pixels, 1000 bytes at a time
      expect(await files(store, videoId)).toEqual(['000000.seg']);
    });

    it('never renames a partial file into place when the disk fills up mid-write, and leaves no temporary file', async () => {
      let stored = 0;
      let full = true;
      const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')), {
        write: async (handle, buffer, offset, length, position) => {
          // Room for 5000 bytes: short writes up to there, then ENOSPC, until space is freed.
          if (full && stored >= 5000) throw enospc();
          const n = full ? Math.min(length, 5000 - stored, 700) : length;
          stored += n;
          return (await handle.write(buffer, offset, n, position)).bytesWritten;
        },
      });
      const attempt = store.write(header(1), frames());
      await expect(attempt).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(isStorageFull(await attempt.catch((error: unknown) => error))).toBe(true);
      expect(await store.exists(videoId, 1)).toBe(false);
      expect(await files(store, videoId)).toEqual([]);
      expect(await store.countPending(videoId)).toBe(0);

      full = false; // space is back: the same write succeeds, whole
      await store.write(header(1), frames());
      expect((await store.read(videoId, 1)).pixels).toEqual(Buffer.concat(frames()));
      expect(await files(store, videoId)).toEqual(['000001.seg']);
    });

    it('treats a write that stores nothing as a full disk, and a nonsensical byte count as an I/O error', async () => {
      const none = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')), { write: async () => 0 });
      await expect(none.write(header(2), frames())).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(await files(none, videoId)).toEqual([]);
      const liar = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')), {
        write: async (_handle, _buffer, _offset, length) => length + 1,
      });
      await expect(liar.write(header(2), frames())).rejects.toMatchObject({ code: 'EIO' });
      expect(await files(liar, videoId)).toEqual([]);
    });

    it('tells a full disk or quota from other errors', () => {
      expect(isStorageFull(enospc())).toBe(true);
      expect(isStorageFull(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true);
      expect(isStorageFull(Object.assign(new Error('io'), { code: 'EIO' }))).toBe(false);
      expect(isStorageFull(new Error('plain'))).toBe(false);
      expect(isStorageFull(undefined)).toBe(false);
    });

    it('reads the free space of the storage root', async () => {
      const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
      expect(await store.freeBytes()).toBeGreaterThan(0);
      expect(await new SegmentStore('/nonexistent/vad').freeBytes()).toBeUndefined();
    });
  });

  it('sweeps stale temporary files of every video, leaving recent ones (live writers) and segments alone', async () => {
    const store = new SegmentStore(mkdtempSync(join(tmpdir(), 'vad-seg-')));
    expect(await store.removeStaleTemporaries(60_000)).toBe(0); // no segments folder yet
    const other = '00000000-0000-4000-8000-000000000002';
    await store.write({ videoId, segmentIndex: 0, width: 4, height: 4, frames: [{ index: 0, ptsMs: 0 }] }, [frame(0)]);
    await mkdir(store.videoDir(other), { recursive: true });
    const now = Date.now();
    const file = async (id: string, name: string, ageMs: number) => {
      const path = join(store.videoDir(id), name);
      await writeFile(path, 'partial');
      const time = new Date(now - ageMs);
      await utimes(path, time, time);
    };
    await file(videoId, '000001.seg.dead0001.tmp', 10 * 60_000); // a killed writer's, 10 min old
    await file(videoId, '000002.seg.live0002.tmp', 5_000); // being written now, on this or another machine
    await file(other, '000007.seg.dead0003.tmp', 3 * 60_000);
    await file(other, '000000.seg', 60 * 60_000); // an old but complete segment waiting for embedding
    await writeFile(join(store.root, 'segments', 'stray-file'), 'not a folder');

    expect(await store.removeStaleTemporaries(2 * 60_000, now)).toBe(2);
    expect(await files(store, videoId)).toEqual(['000000.seg', '000002.seg.live0002.tmp']);
    expect(await files(store, other)).toEqual(['000000.seg']);
    expect(await store.removeStaleTemporaries(2 * 60_000, now)).toBe(0);
  });
});

async function files(store: SegmentStore, id: string): Promise<string[]> {
  return (await readdir(store.videoDir(id))).sort();
}
