import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { ModelFile, ModelSpec } from './manifest.js';

export interface FetchProgress {
  file: string;
  /** Bytes of this file on disk so far (resumed bytes included). */
  bytes: number;
  /** Expected size when known (manifest or Content-Length). */
  total: number | undefined;
}

export interface FetchModelOptions {
  onProgress?: (progress: FetchProgress) => void;
  /** Download again even when the files are there and verified. */
  force?: boolean;
  fetchImpl?: typeof fetch;
}

export interface FetchedFile {
  path: string;
  bytes: number;
  sha256: string;
  skipped: boolean;
}

export class ModelFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFetchError';
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  );
}

function filesOf(spec: ModelSpec): ModelFile[] {
  return [spec.files.image, spec.files.text, spec.files.tokenizer, spec.files.tokenizerConfig].filter(
    (f): f is ModelFile => f !== undefined,
  );
}

/** Checks a downloaded file against the manifest; throws with what differs. */
async function verify(path: string, file: ModelFile, expectedBytes: number | undefined): Promise<string> {
  const bytes = await sizeOf(path);
  const wanted = file.bytes ?? expectedBytes;
  if (wanted !== undefined && bytes !== wanted) {
    throw new ModelFetchError(`${file.path}: ${bytes} bytes, expected ${wanted}`);
  }
  const digest = await sha256Of(path);
  if (file.sha256 && digest !== file.sha256) {
    throw new ModelFetchError(`${file.path}: sha256 ${digest} does not match the pinned ${file.sha256}`);
  }
  return digest;
}

/**
 * Downloads a model's files into `<modelDir>/<name>/`: each into a `.partial`
 * file that a later run resumes (HTTP Range), verified (size, and sha256 where
 * the manifest pins one), then renamed into place, so a model folder never
 * holds a half-written file under its real name.
 */
export async function fetchModel(name: string, spec: ModelSpec, modelDir: string, options: FetchModelOptions = {}) {
  if (spec.source.type !== 'download') {
    throw new ModelFetchError(`model "${name}" is built, not downloaded: ${spec.source.command}`);
  }
  const doFetch = options.fetchImpl ?? fetch;
  const results: FetchedFile[] = [];
  for (const file of filesOf(spec)) {
    const target = join(modelDir, name, file.path);
    const partial = `${target}.partial`;
    await mkdir(dirname(target), { recursive: true });

    const existing = await sizeOf(target);
    if (existing !== undefined && !options.force && (file.bytes === undefined || existing === file.bytes)) {
      const digest = file.sha256 ? await sha256Of(target) : undefined;
      if (!file.sha256 || digest === file.sha256) {
        results.push({ path: target, bytes: existing, sha256: digest ?? '', skipped: true });
        continue;
      }
    }

    const url = new URL(file.path, spec.source.baseUrl).toString();
    let offset = options.force ? 0 : ((await sizeOf(partial)) ?? 0);
    if (options.force) await rm(partial, { force: true });
    const response = await doFetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
    if (response.status === 416 && offset > 0 && offset === file.bytes) {
      // The partial file is already complete.
    } else if (!response.ok || !response.body) {
      throw new ModelFetchError(`${url}: HTTP ${response.status} ${response.statusText}`);
    } else {
      if (offset > 0 && response.status !== 206) offset = 0; // the server ignored the range: start over
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      const total = Number.isFinite(length) ? offset + length : file.bytes;
      let bytes = offset;
      const body = Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
      const out = createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' });
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (!out.write(chunk)) await once(out, 'drain');
          bytes += chunk.length;
          options.onProgress?.({ file: file.path, bytes, total });
        }
      } finally {
        // Keep every byte received, so an interrupted download resumes where it stopped.
        await new Promise<void>((resolve) => out.end(resolve));
      }
      if (total !== undefined && bytes !== total) {
        throw new ModelFetchError(
          `${file.path}: the download stopped at ${bytes} of ${total} bytes; run the command again to resume`,
        );
      }
    }
    let digest: string;
    try {
      digest = await verify(partial, file, file.bytes);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, target);
    results.push({ path: target, bytes: (await sizeOf(target)) ?? 0, sha256: digest, skipped: false });
  }
  return results;
}

export type InstallState = 'installed' | 'partial' | 'missing';

/** Whether each of the model's files is in place. */
export async function modelInstallState(name: string, spec: ModelSpec, modelDir: string) {
  const files = await Promise.all(
    filesOf(spec).map(async (file) => ({ file, bytes: await sizeOf(join(modelDir, name, file.path)) })),
  );
  const present = files.filter((f) => f.bytes !== undefined);
  const state: InstallState = present.length === files.length ? 'installed' : present.length ? 'partial' : 'missing';
  return { state, bytes: present.reduce((sum, f) => sum + (f.bytes ?? 0), 0), folder: join(modelDir, name) };
}
