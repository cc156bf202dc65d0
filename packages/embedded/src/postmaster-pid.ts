import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from './embedded-postgres-error.js';

/** What postmaster.pid in a data folder says about the server running on it. */
export interface PostmasterPid {
  pid: number;
  port: number;
  /** 'starting', 'ready' (accepts connections) or 'stopping'. */
  status: string;
}

/** The data folder's postmaster.pid, or undefined when there is none (no server, or it stopped cleanly). */
export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // Lines: pid, data folder, start time, port, socket folder, listen address, shared memory key, status.
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!pid || !port) return undefined;
  return { pid, port, status: lines[7]?.trim() || 'starting' };
}

/** Whether a process with this pid exists (one of another user counts). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
