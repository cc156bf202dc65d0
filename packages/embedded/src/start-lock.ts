import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedPostgresError, errorCode } from './embedded-postgres-error.js';
import { isProcessAlive } from './postmaster-pid.js';

/** A lock file with no pid yet is its holder's first instant; older than this, its holder died there. */
const UNWRITTEN_LOCK_MS = 5_000;

/**
 * Runs `work` holding the lock file `lockPath`: created exclusively (O_EXCL)
 * with this process's pid, removed afterwards. Two vad processes thus never
 * run initdb, start postgres or stop it for one data folder at the same time.
 * A lock whose process is gone is stale and taken over; a live one is waited
 * for up to `timeoutMs`.
 */
export async function withStartLock<T>(lockPath: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') {
        // Created but not written (a full disk): not a lock.
        await rm(lockPath, { force: true }).catch(() => undefined);
        throw error;
      }
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    const age = await stat(lockPath).then(
      (file) => Date.now() - file.mtimeMs,
      () => 0,
    );
    if (Number.isNaN(holder) ? age > UNWRITTEN_LOCK_MS : !isProcessAlive(holder)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        'locked',
        `${lockPath} is held by process ${holder}, still starting or stopping PostgreSQL after ${timeoutMs / 1000} s: wait for it, or remove the file if no vad process runs`,
      );
    }
    await sleep(100);
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}
