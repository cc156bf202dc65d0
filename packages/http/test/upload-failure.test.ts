import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absolutePathsIn, apiSettings, auth, openApi, type TestApi } from './support.js';

let env: TestEnvironment;

beforeAll(async () => {
  env = await createTestEnvironment({ env: apiSettings() });
}, 60_000);

afterAll(async () => {
  await env?.destroy();
});

/**
 * An upload target whose disk fills (or fails) after `after` bytes: it writes
 * that much to the real file, then fails the next write with `code`, as a full
 * or broken file system would.
 */
function failingAfter(after: number, code: 'ENOSPC' | 'EIO') {
  return (path: string): Writable => {
    const file = createWriteStream(path);
    let written = 0;
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (written + chunk.length > after) {
          const message = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
          const error = Object.assign(new Error(`${code}: ${message}, write '${path}'`), {
            code,
            syscall: 'write',
            path,
          });
          callback(error);
          return;
        }
        written += chunk.length;
        file.write(chunk, callback);
      },
      final(callback) {
        file.end(callback);
      },
      destroy(error, callback) {
        file.destroy();
        callback(error);
      },
    });
  };
}

interface EndlessUpload {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  stop(): void;
}

/**
 * A client that streams a multipart upload that never ends (64 KiB every few
 * ms, like a large file on a fast link) and reads the answer it gets meanwhile.
 */
function endlessUpload(url: string): Promise<EndlessUpload> {
  const boundary = 'endless';
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/videos`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    let stopped = false;
    const closed = new Promise<void>((done) => req.on('close', () => done()));
    req.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = () => {
      if (stopped || req.destroyed) return;
      if (req.write(chunk)) setTimeout(pump, 2);
      else req.once('drain', pump);
    };
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n`);
    pump();
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (data: string) => {
        body += data;
      });
      response.on('error', () => {});
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          closed,
          stop() {
            stopped = true;
            req.destroy();
          },
        }),
      );
    });
    setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref();
  });
}

const within = <T>(ms: number, promise: Promise<T>, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref()),
  ]);

describe('an upload whose write fails mid-body', () => {
  const cases = [
    ['ENOSPC', 507, 'Insufficient Storage', /no space left/],
    ['EIO', 500, 'Internal Server Error', /could not be written/],
  ] as const;

  it.each(cases)(
    '%s: answers %i, closes the connection, removes the partial file, stops at once',
    async (code, status, error, message) => {
      const api: TestApi = await openApi(env.config, env.logger, { openUploadFile: failingAfter(256 * 1024, code) });
      let upload: EndlessUpload | undefined;
      try {
        const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
        upload = await endlessUpload(url);
        expect(upload.status, upload.body).toBe(status);
        expect(upload.headers.connection).toBe('close');
        const body = JSON.parse(upload.body) as Record<string, unknown>;
        expect(body).toMatchObject({ statusCode: status, error, field: 'file' });
        expect(String(body.message)).toMatch(message);
        expect(absolutePathsIn(upload.body, env.config.storage.root)).toEqual([]);
        // The server hangs up although the client goes on sending…
        await within(2000, upload.closed, 'connection closed by the server');
        // …nothing of the upload stays on disk…
        expect(await readdir(join(env.config.storage.root, 'uploads', 'incoming')).catch(() => [])).toEqual([]);
        // …and the API stops at once.
        const started = Date.now();
        await within(3000, api.app.close(), 'app.close()');
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        upload?.stop();
        await api.close();
      }
    },
  );

  it('a client that goes away mid-upload leaves nothing on disk and does not hold up shutdown', async () => {
    const api: TestApi = await openApi(env.config, env.logger);
    try {
      const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
      const req = request(`${url}/v1/videos`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'multipart/form-data; boundary=gone' },
      });
      req.on('error', () => {});
      req.write('--gone\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n');
      req.write(Buffer.alloc(512 * 1024, 1));
      const incoming = join(env.config.storage.root, 'uploads', 'incoming');
      await waitFor(
        'upload started',
        () => readdir(incoming).catch(() => [] as string[]),
        (names) => names.length > 0,
        5000,
      );
      req.destroy();
      await waitFor(
        'partial upload removed',
        () => readdir(incoming).catch(() => [] as string[]),
        (names) => names.length === 0,
        5000,
      );
      const started = Date.now();
      await within(3000, api.app.close(), 'app.close()');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await api.close();
    }
  });
});
