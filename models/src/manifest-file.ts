import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** models/manifest.json of this package (next to src/ and dist/ alike). */
export const MANIFEST_PATH = fileURLToPath(new URL('../manifest.json', import.meta.url));

let cached: unknown;

/**
 * The manifest's JSON, unvalidated: each section's reader validates its own
 * part (`models`: @vad/clip, `captioners`: @vad/caption). Read once; another
 * `path` (a test's manifest) is read each time.
 */
export function readManifestJson(path?: string): unknown {
  if (path) return JSON.parse(readFileSync(path, 'utf8'));
  cached ??= JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
  return cached;
}
