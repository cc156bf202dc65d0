import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedPostgresError, errorCode } from './embedded-postgres-error.js';

/** The files vad keeps next to a data folder `<dir>`: `<dir>.password`, `<dir>.lock`, ... */
export interface DataFolderFiles {
  dataDir: string;
  /** The superuser's password (mode 0600). */
  password: string;
  /** Held while a process starts or stops the server (see withStartLock). */
  lock: string;
  /** initdb's staging folder, renamed into place when complete. */
  staging: string;
  /** postgres' output since the last start by vad; the one before is `<dir>.log.1`. */
  log: string;
}

/** The files of the data folder `dataDir` (an absolute path). */
export function dataFolderFiles(dataDir: string): DataFolderFiles {
  const at = (suffix: string) => `${dataDir}.${suffix}`;
  return { dataDir, password: at('password'), lock: at('lock'), staging: at('initdb'), log: at('log') };
}

/**
 * 'missing' when the data folder is absent or an empty folder, 'cluster'
 * when it holds a PostgreSQL cluster of `major`; throws 'corrupt-data' for
 * anything else, touching nothing.
 */
export async function inspectDataFolder(dataDir: string, major: number): Promise<'missing' | 'cluster'> {
  const entries = await readdir(dataDir).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return [];
    if (errorCode(error) === 'ENOTDIR') return ['(a file)'];
    throw error;
  });
  if (entries.length === 0) return 'missing';
  const version = await readFile(join(dataDir, 'PG_VERSION'), 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (version === String(major)) return 'cluster';
  const found = version ? ` (it is from PostgreSQL ${version})` : '';
  throw new EmbeddedPostgresError(
    'corrupt-data',
    `${dataDir} is not a PostgreSQL ${major} data folder${found}: move it away or set VAD_EMBEDDED_DIR to another folder`,
  );
}

/** The superuser's password, kept by initialiseCluster. */
export async function readPassword(files: DataFolderFiles): Promise<string> {
  const text = await readFile(files.password, 'utf8').catch((error: unknown) => {
    throw new EmbeddedPostgresError(
      'start-failed',
      `cannot read ${files.password} (${errorCode(error)}), the password of the PostgreSQL server of ${files.dataDir}: run vad as the user that created it, or move the data folder away to start afresh`,
      { cause: error },
    );
  });
  return text.trim();
}
