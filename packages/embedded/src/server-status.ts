import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { isPortOpen } from './port-probe.js';
import { isProcessAlive, readPostmasterPid } from './postmaster-pid.js';

/** The embedded server of a data folder, for `vad doctor` and status lines. */
export interface EmbeddedServerStatus {
  /** The data folder holds a PostgreSQL cluster (initdb ran). */
  initialised: boolean;
  /** A server runs on it and answers on its port. */
  running: boolean;
  /** The postmaster's pid, while its process lives. */
  pid?: number;
  /** The port it listens on (127.0.0.1), while its process lives. */
  port?: number;
}

/** Whether the embedded server of `dataDir` runs, read from its postmaster.pid; starts nothing. */
export async function embeddedServerStatus(dataDir: string): Promise<EmbeddedServerStatus> {
  const initialised = await access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const postmaster = await readPostmasterPid(dataDir);
  if (!postmaster || !isProcessAlive(postmaster.pid)) return { initialised, running: false };
  const running = postmaster.status === 'ready' && (await isPortOpen('127.0.0.1', postmaster.port, 1000));
  return { initialised, running, pid: postmaster.pid, port: postmaster.port };
}
