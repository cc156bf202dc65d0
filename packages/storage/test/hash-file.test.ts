import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../src/index.js';

describe('sha256File', () => {
  it('hashes in streamed reads and reports progress', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vad-hash-')), 'data.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(path, data);
    const seen: number[] = [];
    const digest = await sha256File(path, (bytes) => seen.push(bytes));
    expect(digest).toBe(createHash('sha256').update(data).digest('hex'));
    expect(seen.at(-1)).toBe(data.length);
    expect(seen.length).toBeGreaterThan(1);
  });
});
