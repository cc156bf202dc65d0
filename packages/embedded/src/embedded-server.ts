import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '@vad/config';
import pg from 'pg';
import { type DataFolderFiles, dataFolderFiles, inspectDataFolder, readPassword } from './data-folder.js';
import { asEmbeddedPostgresError, EmbeddedPostgresError } from './embedded-postgres-error.js';
import { initialiseCluster } from './initialise-cluster.js';
import { isPortOpen } from './port-probe.js';
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.js';
import { findRunningServer, startPostmaster, stopPostmaster } from './postmaster.js';
import { assertReachable, postgresRunAs, type RunAs } from './run-as.js';
import { withStartLock } from './start-lock.js';

/** How long a start waits for another process's start or stop, and for postgres to get ready. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

export interface StartEmbeddedPostgresOptions {
  /** The data folder, kept between runs (e.g. ./var/postgres); its password, lock and log files sit next to it. */
  dataDir: string;
  /** The port to listen on, on 127.0.0.1 only. A server already running on the folder keeps its own port. */
  port: number;
  logger: Logger;
  /** The database `url` names, created when missing: 'vad' unless given. */
  database?: string;
}

/** An embedded PostgreSQL server this process started or found running, and uses until release(). */
export interface EmbeddedServer {
  /** postgres://postgres:…@127.0.0.1:port/vad */
  url: string;
  /** The same server's `postgres` database, for administration. */
  adminUrl: string;
  dataDir: string;
  port: number;
  /** This call started the server (false: it was running, started by another process). */
  startedHere: boolean;
  /** The postmaster's pid. */
  pid: number;
  /**
   * Call on exit, after closing this process's own connections: stops the
   * server when no other client is connected to it, else leaves it running
   * for the others (the last one out stops it). Never throws; idempotent.
   */
  release(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL server of `dataDir`, or joins the one
 * already running on it: every vad process of a machine shares one server.
 * The first start ever creates the cluster (initdb). Starts and stops are
 * serialised by a lock file next to the data folder. Each process holds one
 * connection open until release(): that is how the last one out knows it is
 * the last.
 */
export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions): Promise<EmbeddedServer> {
  const files = dataFolderFiles(resolve(options.dataDir));
  try {
    const binaries = await findPostgresBinaries();
    await mkdir(dirname(files.dataDir), { recursive: true });
    return await withStartLock(files.lock, START_TIMEOUT_MS, () => startLocked(files, binaries, options));
  } catch (error) {
    throw asEmbeddedPostgresError(error, files.dataDir);
  }
}

async function startLocked(
  files: DataFolderFiles,
  binaries: PostgresBinaries,
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedServer> {
  const { dataDir } = files;
  const { logger } = options;
  if ((await inspectDataFolder(dataDir, binaries.major)) === 'missing') {
    const runAs = await reachableRunAs(dataDir, binaries, logger);
    logger.info({ dataDir }, 'embedded PostgreSQL: creating the data folder (initdb)');
    await initialiseCluster(files, binaries, runAs, logger);
  }
  let running = await findRunningServer(dataDir, START_TIMEOUT_MS);
  const startedHere = !running;
  if (!running) {
    if (await isPortOpen('127.0.0.1', options.port, 1000)) {
      throw new EmbeddedPostgresError(
        'port-taken',
        `port ${options.port} is in use by another program, so the PostgreSQL of ${dataDir} cannot start: set VAD_EMBEDDED_PORT to a free port`,
      );
    }
    const runAs = await reachableRunAs(dataDir, binaries, logger);
    const { postgres } = binaries;
    const pid = await startPostmaster({
      files,
      postgres,
      port: options.port,
      runAs,
      logger,
      timeoutMs: START_TIMEOUT_MS,
    });
    running = { pid, port: options.port, status: 'ready' };
    logger.info({ dataDir, port: options.port, pid }, 'embedded PostgreSQL: started');
  } else {
    if (running.port !== options.port) {
      logger.warn(
        { dataDir, port: running.port },
        `embedded PostgreSQL: running on port ${running.port}, not ${options.port}`,
      );
    }
    logger.info({ dataDir, port: running.port, pid: running.pid }, 'embedded PostgreSQL: joined the running server');
  }
  const { pid, port } = running;
  const password = await readPassword(files);
  const urlOf = (database: string) =>
    `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const adminUrl = urlOf('postgres');
  const database = options.database ?? 'vad';
  const presence = await connectPresence(adminUrl, logger);
  try {
    const exists = await presence.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) await presence.query(`CREATE DATABASE ${presence.escapeIdentifier(database)}`);
  } catch (error) {
    await presence.end().catch(() => undefined);
    throw error;
  }

  let released: Promise<void> | undefined;
  const release = () => {
    released ??= releaseServer(files, presence, logger);
    return released;
  };
  return { url: urlOf(database), adminUrl, dataDir, port, startedHere, pid, release };
}

/** Root runs postgres as another user (see postgresRunAs), who must reach the data folder and the binaries. */
async function reachableRunAs(dataDir: string, binaries: PostgresBinaries, logger: Logger): Promise<RunAs | undefined> {
  const runAs = await postgresRunAs(dataDir, logger);
  if (runAs) {
    await assertReachable(dataDir, runAs);
    await assertReachable(binaries.postgres, runAs);
  }
  return runAs;
}

/** How long release() waits for connections closing as it looks (this process's own pools, a command that just ended). */
const CLOSING_GRACE_MS = 3_000;
/** The application name of a vad process's presence connection, and the pid it names. */
const presenceName = (pid: number) => `vad (pid ${pid})`;
const PRESENCE_PID = /^vad \(pid (\d+)\)$/;

/** Whether a process of this machine runs (the embedded server only takes local clients). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's connection, counted by the other processes' release(). */
async function connectPresence(adminUrl: string, logger: Logger): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: presenceName(process.pid) });
  // Without a listener, the server going away would crash the process.
  client.on('error', (error) => logger.debug({ err: error }, 'embedded PostgreSQL: connection lost'));
  await client.connect();
  return client;
}

/**
 * The server's other clients: running vad processes (by their presence
 * connection) and all of them. A connection closed a moment ago can still be
 * listed while its backend exits: that of a vad process that has ended
 * does not count, and other connections (this process's own pools, which
 * close before release; a command's) are given a moment to go before they do.
 */
async function otherClients(presence: pg.Client): Promise<{ vad: number; all: number }> {
  const until = Date.now() + CLOSING_GRACE_MS;
  for (;;) {
    const { rows } = await presence.query<{ name: string | null }>(
      `SELECT application_name AS name FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    const pids = rows.map((row) => PRESENCE_PID.exec(row.name ?? '')?.[1]);
    const vad = pids.filter((pid) => pid !== undefined && isRunning(Number(pid))).length;
    const others = pids.filter((pid) => pid === undefined).length;
    if (vad > 0 || others === 0 || Date.now() > until) return { vad, all: vad + others };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The last one out stops the server: see EmbeddedServer.release. */
async function releaseServer(files: DataFolderFiles, presence: pg.Client, logger: Logger): Promise<void> {
  const { dataDir } = files;
  try {
    await withStartLock(files.lock, START_TIMEOUT_MS, async () => {
      const others = await otherClients(presence);
      await presence.end();
      if (others.all > 0) {
        logger.info(
          { dataDir, others: others.all, vadProcesses: others.vad },
          'embedded PostgreSQL: left running for its other clients',
        );
      } else if (await stopPostmaster(dataDir, STOP_TIMEOUT_MS)) {
        logger.info({ dataDir }, 'embedded PostgreSQL: stopped');
      } else {
        logger.warn({ dataDir }, `embedded PostgreSQL: still stopping after ${STOP_TIMEOUT_MS / 1000} s`);
      }
    });
  } catch (error) {
    await presence.end().catch(() => undefined);
    logger.warn({ err: error, dataDir }, 'embedded PostgreSQL: could not release the server; it may still run');
  }
}
