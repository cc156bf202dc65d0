import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { sha256File } from '@vad/storage';
import type { ModelFile, ModelSpec } from './manifest.js';
import { modelFiles } from './model-files.js';
import { ensureFolded, type FoldOutcome } from './model-fold.js';

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
  /**
   * Write the image encoder's folded model beside it once it is verified
   * (default true; see model-fold.ts). A model that cannot be folded is still
   * installed: its `fold` outcome says why.
   */
  fold?: boolean;
}

export interface FetchedFile {
  path: string;
  bytes: number;
  sha256: string;
  skipped: boolean;
  /** The image encoder's entry: what folding its preprocessing into the graph did. */
  fold?: FoldOutcome;
}

export class ModelFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFetchError';
  }
}

/**
 * A network failure before any byte came: the host could not be reached.
 * The message says what to do on a machine without access.
 */
export class ModelUnreachableError extends ModelFetchError {
  constructor(
    message: string,
    readonly host: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ModelUnreachableError';
  }
}

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'CERT_HAS_EXPIRED',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * The network reason behind a fetch failure, from its cause chain (undici
 * throws `TypeError: fetch failed` whose `cause` holds the system error, an
 * AggregateError when several addresses were tried), e.g. `getaddrinfo
 * ENOTFOUND huggingface.co`; undefined when nothing in the chain is a
 * network error.
 */
export function networkErrorReason(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown): string | undefined => {
    if (!value || typeof value !== 'object' || seen.has(value)) return undefined;
    seen.add(value);
    const e = value as ErrorLike;
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    const nested = Array.isArray(e.errors) ? e.errors : [];
    if (code && NETWORK_CODES.has(code)) {
      if (message && message !== 'fetch failed') return message.includes(code) ? message : `${message} (${code})`;
      const inner = nested
        .map((n) => (n as ErrorLike).message)
        .filter((m): m is string => typeof m === 'string' && m !== '');
      return inner.length ? [...new Set(inner)].join('; ') : code;
    }
    for (const next of [e.cause, ...nested]) {
      const found = visit(next);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error);
}

function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const message = (current as ErrorLike).message;
    if (typeof message === 'string' && message && !parts.includes(message)) parts.push(message);
    current = (current as ErrorLike).cause;
  }
  return parts.join(': ') || String(error);
}

/** The message for a download source that cannot be reached: what to download by other means, and where to put it. */
export function unreachableMessage(name: string, spec: ModelSpec, modelDir: string, host: string, reason: string) {
  const folder = join(modelDir, name);
  const files = modelFiles(spec).map(({ file }) => file);
  const lines = [
    `could not reach ${host} (${reason}): this machine seems offline or behind a proxy; download the files elsewhere and place them in ${folder} (expected: ${files.map((f) => f.path).join(', ')}), then run vad models verify ${name}`,
  ];
  if (spec.source.type === 'download') {
    for (const file of files) {
      const size = file.bytes !== undefined ? ` (${file.bytes} bytes)` : '';
      lines.push(`  ${new URL(file.path, spec.source.baseUrl).toString()} → ${join(folder, file.path)}${size}`);
    }
  }
  const proxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].find((v) => process.env[v]);
  if (proxy && !process.env.NODE_USE_ENV_PROXY) {
    lines.push(
      `note: ${proxy} is set, but Node.js's fetch only uses it with NODE_USE_ENV_PROXY=1, on Node.js versions that support that (24, and recent 22 releases; not 20)`,
    );
  }
  return lines.join('\n');
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  );
}

function filesOf(spec: ModelSpec): ModelFile[] {
  return modelFiles(spec).map(({ file }) => file);
}

/** Checks a downloaded file against the manifest; throws with what differs. */
async function verify(path: string, file: ModelFile, expectedBytes: number | undefined): Promise<string> {
  const bytes = await sizeOf(path);
  const wanted = file.bytes ?? expectedBytes;
  if (wanted !== undefined && bytes !== wanted) {
    throw new ModelFetchError(`${file.path}: ${bytes} bytes, expected ${wanted}`);
  }
  const digest = await sha256File(path);
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
  if (spec.source.type === 'built') {
    throw new ModelFetchError(`model "${name}" is built, not downloaded: ${spec.source.command}`);
  }
  if (spec.source.type === 'local') {
    throw new ModelFetchError(
      `model "${name}" was added from local files (vad models add), there is nothing to download; check it with vad models verify ${name}`,
    );
  }
  const { baseUrl } = spec.source;
  const doFetch = options.fetchImpl ?? fetch;
  const results: FetchedFile[] = [];
  const imageFile = spec.files.image;
  for (const file of filesOf(spec)) {
    const target = join(modelDir, name, file.path);
    const partial = `${target}.partial`;
    await mkdir(dirname(target), { recursive: true });

    const existing = await sizeOf(target);
    if (existing !== undefined && !options.force && (file.bytes === undefined || existing === file.bytes)) {
      const digest = file.sha256 ? await sha256File(target) : undefined;
      if (!file.sha256 || digest === file.sha256) {
        results.push({ path: target, bytes: existing, sha256: digest ?? '', skipped: true });
        continue;
      }
    }

    const url = new URL(file.path, baseUrl).toString();
    let offset = options.force ? 0 : ((await sizeOf(partial)) ?? 0);
    if (options.force) await rm(partial, { force: true });
    let response: Response;
    try {
      response = await doFetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
    } catch (error) {
      const reason = networkErrorReason(error);
      const host = new URL(url).host;
      if (reason) throw new ModelUnreachableError(unreachableMessage(name, spec, modelDir, host, reason), host, reason);
      throw new ModelFetchError(`could not download ${url}: ${describe(error)}`);
    }
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
      } catch (error) {
        const of = total !== undefined ? ` of ${total}` : '';
        throw new ModelFetchError(
          `${file.path}: the download stopped at ${bytes}${of} bytes (${networkErrorReason(error) ?? describe(error)}); run the command again to resume`,
        );
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
  if (options.fold !== false) {
    // Every file is verified: fold the image encoder's preprocessing into a second file beside it.
    const image = results[filesOf(spec).indexOf(imageFile)];
    if (image) {
      image.fold = await ensureFolded(
        image.path,
        { mean: spec.mean, std: spec.std, size: spec.inputSize },
        { force: !image.skipped },
      );
    }
  }
  return results;
}

export type InstallState = 'installed' | 'partial' | 'missing' | 'wrong-size';

export interface InstalledFile {
  /** Path inside the model's folder. */
  path: string;
  /** Bytes on disk; undefined when the file is absent. */
  bytes: number | undefined;
  /** Size the manifest or the added model's spec records, when it does. */
  expectedBytes: number | undefined;
}

/**
 * Whether each of the model's files is in place, with the recorded size (a
 * stat per file, no hashing): `wrong-size` when any file's size differs from
 * the recorded one, so that such a model is never shown as installed.
 */
export async function modelInstallState(name: string, spec: ModelSpec, modelDir: string) {
  const files: InstalledFile[] = await Promise.all(
    filesOf(spec).map(async (file) => ({
      path: file.path,
      bytes: await sizeOf(join(modelDir, name, file.path)),
      expectedBytes: file.bytes,
    })),
  );
  const present = files.filter((f) => f.bytes !== undefined);
  const wrongSize = present.filter((f) => f.expectedBytes !== undefined && f.bytes !== f.expectedBytes);
  const state: InstallState = wrongSize.length
    ? 'wrong-size'
    : present.length === files.length
      ? 'installed'
      : present.length
        ? 'partial'
        : 'missing';
  return {
    state,
    bytes: present.reduce((sum, f) => sum + (f.bytes ?? 0), 0),
    folder: join(modelDir, name),
    files,
    wrongSize,
  };
}

export type FileCheckStatus = 'ok' | 'missing' | 'wrong-size' | 'hash-mismatch';

export interface FileCheck {
  /** Path inside the model's folder. */
  path: string;
  status: FileCheckStatus;
  /** Bytes on disk (absent when the file is). */
  bytes?: number | undefined;
  expectedBytes?: number | undefined;
  /** sha256 of the file, computed when one is recorded to compare with. */
  sha256?: string | undefined;
  expectedSha256?: string | undefined;
}

export interface VerifyProgress {
  file: string;
  bytes: number;
  total: number;
}

/**
 * Checks each of a model's files against the manifest (or the added model's
 * spec): present, the recorded size, the pinned sha256 (hashed as a stream).
 */
export async function verifyModel(
  name: string,
  spec: ModelSpec,
  modelDir: string,
  options: { onProgress?: (progress: VerifyProgress) => void } = {},
): Promise<{ ok: boolean; folder: string; files: FileCheck[] }> {
  const folder = join(modelDir, name);
  const files: FileCheck[] = [];
  for (const file of filesOf(spec)) {
    const path = join(folder, file.path);
    const bytes = await sizeOf(path);
    const check: FileCheck = { path: file.path, status: 'ok', bytes, expectedBytes: file.bytes };
    if (bytes === undefined) check.status = 'missing';
    else if (file.bytes !== undefined && bytes !== file.bytes) check.status = 'wrong-size';
    else if (file.sha256) {
      check.expectedSha256 = file.sha256;
      check.sha256 = await sha256File(path, (done) =>
        options.onProgress?.({ file: file.path, bytes: done, total: bytes }),
      );
      if (check.sha256 !== file.sha256) check.status = 'hash-mismatch';
    }
    files.push(check);
  }
  return { ok: files.every((f) => f.status === 'ok'), folder, files };
}

/** One line's verdict for a checked file: `ok …`, `missing`, `wrong size: expected N bytes, found M`, `hash mismatch: …`. */
export function describeFileCheck(check: FileCheck): string {
  switch (check.status) {
    case 'missing':
      return 'missing';
    case 'wrong-size':
      return `wrong size: expected ${check.expectedBytes} bytes, found ${check.bytes}`;
    case 'hash-mismatch':
      return `hash mismatch: expected sha256 ${check.expectedSha256}, found ${check.sha256}`;
    default: {
      const checked = check.expectedSha256
        ? 'size and sha256 match'
        : check.expectedBytes !== undefined
          ? 'size matches; no sha256 pinned'
          : 'present; no size or sha256 recorded';
      return `ok (${check.bytes} bytes, ${checked})`;
    }
  }
}
