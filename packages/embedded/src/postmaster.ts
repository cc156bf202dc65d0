import { spawn } from 'node:child_process';
import { open, readFile, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@vad/config';
import type { DataFolderFiles } from './data-folder.js';
import { EmbeddedPostgresError, errorCode, failureFromOutput } from './embedded-postgres-error.js';
import { isPortOpen } from './port-probe.js';
import { isProcessAlive, type PostmasterPid, readPostmasterPid } from './postmaster-pid.js';
import type { RunAs } from './run-as.js';

/**
 * The server running on the data folder, once it answers; undefined when
 * none runs (one stopping is waited for). A postmaster.pid naming a live
 * process that does not answer within a few seconds (a pid reused after a
 * crash) is an error: postgres itself would refuse to start over it.
 */
export async function findRunningServer(dataDir: string, timeoutMs: number): Promise<PostmasterPid | undefined> {
  const deadline = Date.now() + timeoutMs;
  const silentDeadline = Date.now() + 5_000;
  for (;;) {
    const postmaster = await readPostmasterPid(dataDir);
    if (!postmaster || !isProcessAlive(postmaster.pid)) return undefined;
    const { pid, port, status } = postmaster;
    if (status === 'ready' && (await isPortOpen('127.0.0.1', port, 1000))) return postmaster;
    if (Date.now() > (status === 'ready' ? silentDeadline : deadline)) {
      throw new EmbeddedPostgresError(
        'start-failed',
        `${dataDir}/postmaster.pid names process ${pid} (${status}), which does not answer on port ${port}: stop it, or remove postmaster.pid if it is no PostgreSQL`,
      );
    }
    await sleep(200);
  }
}

/**
 * Starts postgres on the data folder, listening on 127.0.0.1:`port` only (no
 * Unix socket), and resolves with its pid once it accepts connections. It
 * runs detached in a session of its own, so that it outlives this process and
 * a Ctrl-C in its terminal (the server is shared: see release()). Its output
 * goes to the log file next to the data folder, and is passed to `logger` at
 * debug level.
 */
export async function startPostmaster(options: {
  files: DataFolderFiles;
  postgres: string;
  port: number;
  runAs: RunAs | undefined;
  logger: Logger;
  timeoutMs: number;
}): Promise<number> {
  const { files, port, logger } = options;
  await rename(files.log, `${files.log}.1`).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
  const log = await open(files.log, 'a', 0o600);
  const args = ['-D', files.dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'];
  const child = spawn(options.postgres, [...args, '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'], {
    ...options.runAs,
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, LC_ALL: 'C' },
  });
  await log.close();
  child.unref();
  let exit: string | undefined;
  child.once('error', (error) => {
    exit = error.message;
  });
  child.once('exit', (code, signal) => {
    exit = `exited (${signal ?? code})`;
  });
  const output = async () => {
    const text = await readFile(files.log, 'utf8').catch(() => '');
    for (const line of text.split('\n').filter(Boolean)) logger.debug(`postgres: ${line}`);
    return text;
  };
  const what = `PostgreSQL for ${files.dataDir} on port ${port}`;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (exit !== undefined) throw failureFromOutput(`${await output()}\n${exit}`, what, port);
    const postmaster = await readPostmasterPid(files.dataDir);
    if (postmaster && postmaster.pid === child.pid && postmaster.status === 'ready') {
      await output();
      return postmaster.pid;
    }
    if (Date.now() > deadline) {
      await output();
      throw new EmbeddedPostgresError(
        'start-failed',
        `${what} was not ready after ${options.timeoutMs / 1000} s (recovering?): see ${files.log}`,
      );
    }
    await sleep(100);
  }
}

/**
 * Stops the server with a fast shutdown (SIGINT: open transactions are rolled
 * back, data is kept) and waits for its postmaster.pid to go.
 */
export async function stopPostmaster(dataDir: string, timeoutMs: number): Promise<boolean> {
  const postmaster = await readPostmasterPid(dataDir);
  if (!postmaster || !isProcessAlive(postmaster.pid)) return true;
  process.kill(postmaster.pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await readPostmasterPid(dataDir)) || !isProcessAlive(postmaster.pid)) return true;
    await sleep(100);
  }
  return false;
}
