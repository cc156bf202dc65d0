import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Text shown to API clients with this machine's absolute paths taken out. */
export type Redact = (text: string) => string;

/** First segments of the API's own URLs, which messages may name (`no route GET /v1/…`). */
const API_PATHS = new Set(['v1', 'docs', 'admin', 'metrics', 'healthz', 'readyz']);

/**
 * An absolute file path: `/` then at least one more `/`, not inside a word,
 * a URL (`http://…`) or a relative path (`a/b`). Spaces end it.
 */
const ABSOLUTE_PATH = /(?<![\w.~:/@%-])\/(?:[^\s/'"`,;:()[\]{}<>]+\/)+[^\s/'"`,;:()[\]{}<>]*/g;

/**
 * Paths under the storage root become relative to it (`uploads/incoming/….mp4`,
 * as a client names them in `uri`); any other absolute path (ffprobe's or a
 * library's message naming a file elsewhere) becomes `<path>`.
 */
export function createRedactor(storageRoot: string): Redact {
  const roots = new Set([resolve(storageRoot)]);
  try {
    roots.add(realpathSync(storageRoot));
  } catch {
    // Not created yet: the configured path is the only spelling.
  }
  const longestFirst = [...roots].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const root of longestFirst) {
      out = out.replaceAll(`${root}${sep}`, '').replaceAll(root, 'the storage root');
    }
    return out.replace(ABSOLUTE_PATH, (path) => {
      const first = path.split('/')[1] ?? '';
      return API_PATHS.has(first) ? path : '<path>';
    });
  };
}

/** A stored path as the API shows it: relative to the storage root when under it, else as recorded. */
export function storagePath(storageRoot: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(resolve(storageRoot), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
