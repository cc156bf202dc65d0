import { mkdtempSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SegmentStore } from '../src/index.js';

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
});
