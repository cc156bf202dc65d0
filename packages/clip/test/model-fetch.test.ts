import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchModel, type ModelSpec, modelInstallState } from '../src/index.js';

const weights = randomBytes(300_000);
const tokenizer = Buffer.from('{"tokenizer":true}');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: Server;
let baseUrl: string;
const requests: { path: string; range: string | undefined }[] = [];
let cutNextDownloadAt: number | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url === '/onnx/model.onnx' ? weights : req.url === '/tokenizer.json' ? tokenizer : undefined;
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (!body) return void res.writeHead(404).end();
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    res.writeHead(range ? 206 : 200, { 'content-length': body.length - start });
    if (cutNextDownloadAt !== undefined && body === weights) {
      // Send part of the file, then drop the connection: an interrupted download.
      res.write(body.subarray(start, cutNextDownloadAt), () => res.destroy());
      cutNextDownloadAt = undefined;
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

function spec(pinned = sha(weights)): ModelSpec {
  return {
    description: 'test',
    synthetic: false,
    source: { type: 'download', baseUrl },
    files: {
      image: { path: 'onnx/model.onnx', bytes: weights.length, sha256: pinned },
      tokenizer: { path: 'tokenizer.json' },
    },
    inputSize: 224,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    embeddingSize: 8,
    contextLength: 77,
    logitScale: 100,
    tensors: { image: { input: 'image', output: 'embedding' } },
  };
}

describe('fetchModel', () => {
  it('resumes an interrupted download with a Range request, verifies it and moves it into place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    cutNextDownloadAt = 100_000;
    await expect(fetchModel('m', spec(), dir)).rejects.toThrow();
    const partial = join(dir, 'm/onnx/model.onnx.partial');
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);
    expect(existsSync(join(dir, 'm/onnx/model.onnx'))).toBe(false);
    expect((await modelInstallState('m', spec(), dir)).state).toBe('missing');

    const progress: number[] = [];
    const files = await fetchModel('m', spec(), dir, { onProgress: (p) => progress.push(p.bytes) });
    expect(requests.at(-2)).toEqual({ path: '/onnx/model.onnx', range: `bytes=${kept}-` });
    expect(progress.at(0)).toBeGreaterThan(kept);
    expect(progress).toContain(300_000);
    expect(readFileSync(join(dir, 'm/onnx/model.onnx')).equals(weights)).toBe(true);
    expect(existsSync(partial)).toBe(false);
    expect(files.map((f) => f.skipped)).toEqual([false, false]);
    expect((await modelInstallState('m', spec(), dir)).state).toBe('installed');

    // Fetching again downloads nothing.
    const count = requests.length;
    expect((await fetchModel('m', spec(), dir)).map((f) => f.skipped)).toEqual([true, true]);
    expect(requests.length).toBe(count);
  });

  it('refuses a file whose sha256 differs from the pinned one, leaving nothing in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    await expect(fetchModel('m', spec('0'.repeat(64)), dir)).rejects.toThrow(
      /sha256 .* does not match the pinned 0{64}/,
    );
    expect(existsSync(join(dir, 'm/onnx/model.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'm/onnx/model.onnx.partial'))).toBe(false);
  });

  it('says how built models are made instead of downloading them', async () => {
    const built = { ...spec(), source: { type: 'built' as const, command: 'npm run models:build -- x' } };
    await expect(fetchModel('x', built, tmpdir())).rejects.toThrow(/built, not downloaded: npm run models:build -- x/);
  });
});
