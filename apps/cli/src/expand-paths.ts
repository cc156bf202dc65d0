import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { VIDEO_EXTENSIONS } from '@vad/video';

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(path)));
    else if (entry.isFile() && VIDEO_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}

/**
 * Folders become the video files under them (recursively, by extension);
 * anything else is passed through as given, so a missing or bad path is
 * reported for itself by submit.
 */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const absolute = resolve(path);
    const info = await stat(absolute).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await walk(absolute)));
    else files.push(absolute);
  }
  return [...new Set(files)];
}
