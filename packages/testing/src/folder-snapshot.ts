import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` with its size and modification time: equal snapshots show nothing was touched. */
export function folderSnapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const file = statSync(join(dir, name));
      return `${name} ${file.size} ${file.mtimeMs}`;
    });
}
