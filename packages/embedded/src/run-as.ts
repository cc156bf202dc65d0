import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@vad/config';
import { EmbeddedPostgresError } from './embedded-postgres-error.js';

const execFileAsync = promisify(execFile);

/** The user initdb and postgres run as, when that is not the current user. */
export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root. Run by root (a container, a root shell),
 * vad runs initdb and postgres as the owner of the data folder, or for a new
 * one as the `postgres` system user (created, as embedded-postgres'
 * createPostgresUser does, when the system has none), which then owns it.
 * Anyone else runs them as themselves: undefined.
 */
export async function postgresRunAs(dataDir: string, logger: Logger): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const folder = await stat(dataDir).catch(() => undefined);
  if (folder && folder.uid !== 0) return { uid: folder.uid, gid: folder.gid };
  const ids = async () => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']),
      execFileAsync('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  };
  try {
    return await ids();
  } catch {
    logger.info('embedded PostgreSQL: running as root, creating the postgres system user to run PostgreSQL as');
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']).catch(
      (error: unknown) => {
        throw new EmbeddedPostgresError(
          'start-failed',
          'PostgreSQL cannot run as root and no postgres user could be created: create one (useradd --system postgres) or run vad as another user',
          { cause: error },
        );
      },
    );
    return ids();
  }
}

/**
 * Throws unless `user` may pass through every folder above `target` (it
 * cannot otherwise reach the data folder or the binaries, e.g. under /root).
 */
export async function assertReachable(target: string, user: RunAs): Promise<void> {
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    const { mode, uid, gid } = await stat(dir);
    const searchBit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001;
    if (!(mode & searchBit)) {
      throw new EmbeddedPostgresError(
        'start-failed',
        `PostgreSQL runs as uid ${user.uid}, which cannot enter ${dir} to reach ${target}: chmod o+x ${dir}, or set VAD_EMBEDDED_DIR to a folder it can reach`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}
