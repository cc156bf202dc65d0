import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandPaths } from '../src/expand-paths.js';
import { formatBytes, formatDuration, table } from '../src/format.js';

describe('expandPaths', () => {
  it('finds video files in folders recursively, in name order, and passes other paths through', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vad-expand-'));
    mkdirSync(join(root, 'cam1', 'night'), { recursive: true });
    for (const name of ['cam1/b.mp4', 'cam1/a.MKV', 'cam1/night/c.mov', 'cam1/notes.txt', 'cam1/.hidden.mp4']) {
      writeFileSync(join(root, name), '');
    }
    const missing = join(root, 'missing.mp4');
    expect(await expandPaths([join(root, 'cam1'), missing, join(root, 'cam1', 'b.mp4')])).toEqual([
      join(root, 'cam1', 'a.MKV'),
      join(root, 'cam1', 'b.mp4'),
      join(root, 'cam1', 'night', 'c.mov'),
      missing,
    ]);
  });
});

describe('format', () => {
  it('formats durations, sizes and tables for people', () => {
    expect(formatDuration(6_000)).toBe('0m06s');
    expect(formatDuration(3_725_000)).toBe('1h02m05s');
    expect(formatDuration(null)).toBe('-');
    expect(formatBytes(9_123_456)).toBe('8.7 MiB');
    expect(
      table([
        ['a', 'long value'],
        ['longer', 'x'],
      ]),
    ).toBe('a       long value\nlonger  x');
  });
});
