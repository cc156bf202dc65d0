import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVitImageModel } from '@vad/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchModel,
  foldedPathOf,
  ModelFetchError,
  type ModelSpec,
  ModelUnreachableError,
  modelInstallState,
  networkErrorReason,
  readPreprocessing,
  unreachableMessage,
  verifyModel,
} from '../src/index.js';

const weights = randomBytes(300_000);
const tokenizer = Buffer.from('{"tokenizer":true}');
/** A real (small) image encoder taking float32 NCHW pixels, as a CLIP export does. */
const vision = Buffer.from(
  buildVitImageModel({ imageSize: 64, patchSize: 32, width: 64, layers: 1, heads: 2, outputSize: 16 }, 3, {
    input: 'float32',
  }).bytes,
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: Server;
let baseUrl: string;
const requests: { path: string; range: string | undefined }[] = [];
let cutNextDownloadAt: number | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body =
      req.url === '/onnx/model.onnx'
        ? weights
        : req.url === '/tokenizer.json'
          ? tokenizer
          : req.url === '/onnx/vision.onnx'
            ? vision
            : undefined;
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

function spec(pinned = sha(weights), base = baseUrl): ModelSpec {
  return {
    description: 'test',
    synthetic: false,
    source: { type: 'download', baseUrl: base },
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

  it('repairs an installed file of the wrong size: vad models fetch downloads it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    await fetchModel('m', spec(), dir);
    const target = join(dir, 'm/onnx/model.onnx');
    writeFileSync(target, weights.subarray(0, 1000));
    expect((await modelInstallState('m', spec(), dir)).state).toBe('wrong-size');
    expect((await verifyModel('m', spec(), dir)).files[0]).toMatchObject({ status: 'wrong-size', bytes: 1000 });
    const files = await fetchModel('m', spec(), dir);
    expect(files[0]?.skipped).toBe(false);
    expect(readFileSync(target).equals(weights)).toBe(true);
    const verified = await verifyModel('m', spec(), dir);
    expect(verified.ok).toBe(true);
    expect(verified.files[0]).toMatchObject({ status: 'ok', sha256: sha(weights), expectedSha256: sha(weights) });
    expect(verified.files[1]).toMatchObject({ path: 'tokenizer.json', status: 'ok', bytes: tokenizer.length });
  });

  it('refuses a file whose sha256 differs from the pinned one, leaving nothing in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    await expect(fetchModel('m', spec('0'.repeat(64)), dir)).rejects.toThrow(
      /sha256 .* does not match the pinned 0{64}/,
    );
    expect(existsSync(join(dir, 'm/onnx/model.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'm/onnx/model.onnx.partial'))).toBe(false);
  });

  it('folds the preprocessing of the verified image encoder into a file beside it, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    const real: ModelSpec = {
      ...spec(),
      files: { image: { path: 'onnx/vision.onnx', bytes: vision.length, sha256: sha(vision) } },
      inputSize: 64,
    };
    const [image] = await fetchModel('v', real, dir);
    const target = join(dir, 'v/onnx/vision.onnx');
    expect(image).toMatchObject({
      path: target,
      skipped: false,
      fold: { status: 'folded', path: foldedPathOf(target) },
    });
    expect(image?.fold?.difference).toBeLessThan(1e-5);
    expect(await readPreprocessing(foldedPathOf(target))).toMatchObject({ size: 64, mean: [0, 0, 0], std: [1, 1, 1] });
    // The original stays as downloaded (verify checks it); fetching again folds nothing.
    expect(readFileSync(target).equals(vision)).toBe(true);
    expect((await verifyModel('v', real, dir)).ok).toBe(true);
    const [again] = await fetchModel('v', real, dir);
    expect(again).toMatchObject({ skipped: true, fold: { status: 'up-to-date' } });
    // Not a model that can be folded (here: not ONNX at all): installed anyway, the outcome says why.
    const [other] = await fetchModel('m', spec(), dir);
    expect(other?.fold).toMatchObject({ status: 'failed', reason: expect.stringMatching(/not an ONNX model/) });
    expect(existsSync(foldedPathOf(join(dir, 'm/onnx/model.onnx')))).toBe(false);
    expect((await fetchModel('v', real, dir, { fold: false }))[0]?.fold).toBeUndefined();
  });

  it('says how built models are made instead of downloading them', async () => {
    const built = { ...spec(), source: { type: 'built' as const, command: 'npm run models:build -- x' } };
    await expect(fetchModel('x', built, tmpdir())).rejects.toThrow(/built, not downloaded: npm run models:build -- x/);
  });
});

/** A localhost port nothing listens on: bound, then closed. */
async function unusedPort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('fetchModel without a network', () => {
  it('says the host cannot be reached, where to put the files by hand and how to check them (connection refused)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    const port = await unusedPort();
    const base = `http://127.0.0.1:${port}/repo/resolve/main/`;
    const attempt = fetchModel('m', spec(sha(weights), base), dir);
    await expect(attempt).rejects.toThrow(ModelUnreachableError);
    const message = await attempt.catch((error: Error) => error.message);
    expect(message).not.toMatch(/^fetch failed/);
    expect(message).toContain(`could not reach 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(message).toContain('this machine seems offline or behind a proxy');
    expect(message).toContain(
      `download the files elsewhere and place them in ${join(dir, 'm')} (expected: onnx/model.onnx, tokenizer.json), then run vad models verify m`,
    );
    expect(message).toContain(`${base}onnx/model.onnx → ${join(dir, 'm/onnx/model.onnx')} (300000 bytes)`);
    expect(existsSync(join(dir, 'm/onnx/model.onnx'))).toBe(false);
  });

  it('names the host that does not resolve, from the cause chain of undici\'s "fetch failed"', async () => {
    // The shape Node's fetch throws when DNS fails: TypeError('fetch failed') caused by getaddrinfo's error.
    const offline = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), {
          code: 'ENOTFOUND',
          syscall: 'getaddrinfo',
          hostname: 'huggingface.co',
        }),
      });
    }) as typeof fetch;
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    const hf = spec(sha(weights), 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/');
    await expect(fetchModel('clip-x', hf, dir, { fetchImpl: offline })).rejects.toThrow(
      /^could not reach huggingface\.co \(getaddrinfo ENOTFOUND huggingface\.co\): this machine seems offline or behind a proxy; download the files elsewhere and place them in .*clip-x \(expected: onnx\/model\.onnx, tokenizer\.json\), then run vad models verify clip-x\n {2}https:\/\/huggingface\.co\/Xenova\/clip-vit-base-patch32\/resolve\/main\/onnx\/model\.onnx → /,
    );
  });

  it('reads network codes from causes, aggregate errors and timeouts, and nothing else', () => {
    const aggregate = new TypeError('fetch failed', {
      cause: Object.assign(
        new AggregateError([
          Object.assign(new Error('connect ECONNREFUSED ::1:9'), { code: 'ECONNREFUSED' }),
          Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
        ]),
        { code: 'ECONNREFUSED' },
      ),
    });
    expect(networkErrorReason(aggregate)).toBe('connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9');
    const timeout = new TypeError('fetch failed', {
      cause: Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(networkErrorReason(timeout)).toBe('Connect Timeout Error (UND_ERR_CONNECT_TIMEOUT)');
    const dnsAgain = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo EAI_AGAIN huggingface.co'), { code: 'EAI_AGAIN' }),
    });
    expect(networkErrorReason(dnsAgain)).toBe('getaddrinfo EAI_AGAIN huggingface.co');
    expect(networkErrorReason(new TypeError('fetch failed', { cause: new Error('bad port') }))).toBeUndefined();
    expect(networkErrorReason(new Error('ETIMEDOUT somewhere'))).toBeUndefined();
  });

  it('notes a proxy variable that Node.js fetch does not use', () => {
    const saved = { proxy: process.env.HTTPS_PROXY, use: process.env.NODE_USE_ENV_PROXY };
    process.env.HTTPS_PROXY = 'http://proxy.example:3128';
    delete process.env.NODE_USE_ENV_PROXY;
    try {
      const message = unreachableMessage('m', spec(), '/models', 'huggingface.co', 'connect ETIMEDOUT');
      expect(message).toMatch(
        /\nnote: HTTPS_PROXY is set, but Node\.js's fetch only uses it with NODE_USE_ENV_PROXY=1/,
      );
      process.env.NODE_USE_ENV_PROXY = '1';
      expect(unreachableMessage('m', spec(), '/models', 'huggingface.co', 'x')).not.toMatch(/note:/);
    } finally {
      if (saved.proxy === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved.proxy;
      if (saved.use === undefined) delete process.env.NODE_USE_ENV_PROXY;
      else process.env.NODE_USE_ENV_PROXY = saved.use;
    }
  });

  it('reports a download cut off mid-file with the bytes kept and how to resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-fetch-'));
    cutNextDownloadAt = 50_000;
    const attempt = fetchModel('m', spec(), dir);
    await expect(attempt).rejects.toThrow(ModelFetchError);
    await expect(attempt).rejects.toThrow(
      /onnx\/model\.onnx: the download stopped at \d+ of 300000 bytes.*; run the command again to resume/,
    );
  });
});
