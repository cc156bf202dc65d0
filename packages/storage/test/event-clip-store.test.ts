import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventClipStore } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'vad-clips-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const put = async (path: string) => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, 'mp4');
};

describe('EventClipStore', () => {
  it('keeps clips at clips/<video>/<run>/<event>.mp4 and deletes them by event, run and video', async () => {
    const store = new EventClipStore(root);
    expect(store.relativePath('v1', 'r1', 7)).toBe(join('clips', 'v1', 'r1', '7.mp4'));
    expect(store.absolutePath('v1', 'r1', 7)).toBe(join(root, 'clips', 'v1', 'r1', '7.mp4'));
    for (const [video, run, event] of [
      ['v1', 'r1', 7],
      ['v1', 'r1', 8],
      ['v1', 'r2', 9],
      ['v2', 'r3', 10],
    ] as const) {
      await put(store.absolutePath(video, run, event));
    }
    await put(`${store.absolutePath('v1', 'r1', 7)}.4242-abcd.part`); // left by a process that died

    await store.deleteEvent('v1', 'r1', 7);
    expect(await readdir(join(root, 'clips', 'v1', 'r1'))).toEqual(['8.mp4']);
    await store.deleteEvent('v1', 'r9', 1); // nothing there: no error

    await store.deleteRun('v1', 'r1');
    expect(existsSync(join(root, 'clips', 'v1', 'r1'))).toBe(false);
    expect(existsSync(store.absolutePath('v1', 'r2', 9))).toBe(true);

    await store.deleteVideo('v1');
    expect(existsSync(join(root, 'clips', 'v1'))).toBe(false);
    expect(existsSync(store.absolutePath('v2', 'r3', 10))).toBe(true);
  });
});
