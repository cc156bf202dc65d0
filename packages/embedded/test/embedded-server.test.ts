import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@vad/config';
import { folderSnapshot, freePort } from '@vad/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmbeddedPostgresError,
  type EmbeddedServer,
  embeddedServerStatus,
  isPortOpen,
  startEmbeddedPostgres,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'vad-embedded-'));
// Run as root, postgres runs as the postgres user, which must reach the folders.
chmodSync(root, 0o755);
const dataDir = join(root, 'postgres');
const servers: EmbeddedServer[] = [];
const clients: pg.Client[] = [];
const others: ChildProcess[] = [];

/** A logger keeping its lines, e.g. to count initdb runs. */
function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push(`${level} ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`);
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger;
  return { logger, lines };
}

async function start(dir: string, port: number, logger = captureLogger().logger): Promise<EmbeddedServer> {
  const server = await startEmbeddedPostgres({ dataDir: dir, port, logger });
  servers.push(server);
  return server;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url);
  await client.connect();
  clients.push(client);
  return client;
}

interface OtherProcess {
  started: Promise<{ pid: number; startedHere: boolean; ranInitdb: boolean }>;
  /** SIGKILL, as a crash would: its server runs on. */
  kill(): Promise<void>;
}

/** A vad process starting the server of `dir` (test/fixtures/start-and-wait.ts). */
function startInAnotherProcess(dir: string, port: number): OtherProcess {
  const script = join(import.meta.dirname, 'fixtures/start-and-wait.ts');
  const child = spawn(process.execPath, ['--conditions=vad-source', '--import', 'tsx', script, dir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  others.push(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const started = new Promise<{ pid: number; startedHere: boolean; ranInitdb: boolean }>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
    void exited.then((code) => reject(new Error(`the other process exited (${code})`)));
  });
  return {
    started,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function listen(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function failure(promise: Promise<unknown>): Promise<EmbeddedPostgresError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EmbeddedPostgresError);
  return error as EmbeddedPostgresError;
}

afterAll(async () => {
  for (const child of others) child.kill('SIGKILL');
  for (const client of clients) await client.end().catch(() => undefined);
  for (const server of servers) await server.release();
  // Whatever a failed test left running.
  for (const dir of readdirSync(root).map((name) => join(root, name))) {
    const { pid } = await embeddedServerStatus(dir);
    if (pid) process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && existsSync(join(dir, 'postmaster.pid')); i++) await sleep(100);
  }
  rmSync(root, { recursive: true, force: true });
});

describe('startEmbeddedPostgres', () => {
  let port: number;
  let starter: EmbeddedServer;
  let starterClient: pg.Client;

  it('creates the cluster and the vad database on the first start', async () => {
    port = await freePort();
    const { logger, lines } = captureLogger();
    starter = await start(dataDir, port, logger);
    expect(starter).toMatchObject({ startedHere: true, port, dataDir });
    expect(starter.url).toMatch(new RegExp(`^postgres://postgres:[0-9a-f]+@127\\.0\\.0\\.1:${port}/vad$`));
    expect(lines.some((line) => line.includes('initdb'))).toBe(true);
    expect(lines.some((line) => line.startsWith('debug postgres:'))).toBe(true);
    expect(statSync(`${dataDir}.password`).mode & 0o777).toBe(0o600);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
    expect(await embeddedServerStatus(dataDir)).toEqual({ initialised: true, running: true, pid: starter.pid, port });

    starterClient = await connect(starter.url);
    await starterClient.query('CREATE TABLE camera (name text)');
    await starterClient.query("INSERT INTO camera VALUES ('gate')");
  });

  it('joins the server already running on the folder, and sees its data', async () => {
    const adopter = await start(dataDir, port);
    expect(adopter).toMatchObject({ startedHere: false, pid: starter.pid, url: starter.url });
    const client = await connect(adopter.url);
    expect((await client.query('SELECT name FROM camera')).rows).toEqual([{ name: 'gate' }]);
    await client.end();

    await adopter.release();
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(true);
    expect((await starterClient.query('SELECT count(*)::int AS n FROM camera')).rows).toEqual([{ n: 1 }]);
  });

  it('is stopped by the last one out', async () => {
    await starterClient.end();
    await starter.release();
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(false);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(await embeddedServerStatus(dataDir)).toEqual({ initialised: true, running: false });
  });

  it('keeps the data across a restart, taking over a lock its holder left behind', async () => {
    writeFileSync(`${dataDir}.lock`, `${spawnSync('true').pid}\n`);
    const { logger, lines } = captureLogger();
    const server = await start(dataDir, port, logger);
    expect(server.startedHere).toBe(true);
    expect(lines.some((line) => line.includes('initdb'))).toBe(false);
    const client = await connect(server.url);
    expect((await client.query('SELECT name FROM camera')).rows).toEqual([{ name: 'gate' }]);
    await client.end();
    await server.release();
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(false);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('adopts a server whose starter was killed with SIGKILL', async () => {
    const starter = startInAnotherProcess(dataDir, port);
    const started = await starter.started;
    expect(started.startedHere).toBe(true);
    await starter.kill();

    const server = await start(dataDir, port);
    expect(server).toMatchObject({ startedHere: false, pid: started.pid });
    await server.release();
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(false);
  });

  it('waits a moment for a connection that is closing, and leaves the server to one that stays', async () => {
    // A connection closing as the last one out looks (a command's pool that just ended) does not keep it.
    const server = await start(dataDir, port);
    const closing = await connect(server.url);
    const released = server.release();
    await sleep(300);
    await closing.end();
    await released;
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(false);

    // A client that is not a vad process (psql, say) and stays: the server is left to it.
    const again = await start(dataDir, port);
    const psql = await connect(again.url);
    const { logger, lines } = captureLogger();
    const joined = await start(dataDir, port, logger);
    await again.release();
    await joined.release();
    expect(lines.at(-1)).toMatch(/"others":1,"vadProcesses":0}.*left running for its other clients/);
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(true);
    await psql.end();
    const last = await start(dataDir, port);
    await last.release();
    expect(await isPortOpen('127.0.0.1', port, 1000)).toBe(false);
  });

  it('says the port is taken by another program, and leaves the data folder alone', async () => {
    const before = folderSnapshot(dataDir);
    const other = await listen(port);
    try {
      const error = await failure(start(dataDir, port));
      expect(error.reason).toBe('port-taken');
      expect(error.message).toContain(`port ${port} is in use by another program`);
      expect(error.message).toContain('VAD_EMBEDDED_PORT');
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
    expect(folderSnapshot(dataDir)).toEqual(before);
  });

  it('refuses a folder that is not a PostgreSQL 18 data folder, and leaves it alone', async () => {
    const junk = join(root, 'junk');
    mkdirSync(join(junk, 'photos'), { recursive: true });
    writeFileSync(join(junk, 'notes.txt'), 'mine');
    writeFileSync(join(junk, 'photos', 'cat.jpg'), 'meow');
    const before = folderSnapshot(junk);
    const error = await failure(start(junk, await freePort()));
    expect(error.reason).toBe('corrupt-data');
    expect(error.message).toContain(`${junk} is not a PostgreSQL 18 data folder`);
    expect(folderSnapshot(junk)).toEqual(before);

    writeFileSync(join(junk, 'PG_VERSION'), '16\n');
    const older = await failure(start(junk, await freePort()));
    expect(older.message).toContain('(it is from PostgreSQL 16)');
  });

  it('runs initdb once when three processes start on a fresh folder at once', async () => {
    const fresh = join(root, 'fresh');
    // What a process killed during initdb would leave: cleared, never used.
    mkdirSync(`${fresh}.initdb/pgdata`, { recursive: true });
    const freshPort = await freePort();
    const [one, two] = [captureLogger(), captureLogger()];
    const other = startInAnotherProcess(fresh, freshPort);
    const both = await Promise.all([start(fresh, freshPort, one.logger), start(fresh, freshPort, two.logger)]);
    const inOther = await other.started;
    const initdbHere = [...one.lines, ...two.lines].filter(
      (line) => line.startsWith('info') && line.includes('initdb'),
    );
    expect(initdbHere.length + (inOther.ranInitdb ? 1 : 0)).toBe(1);
    const startedHere = [...both.map((server) => server.startedHere), inOther.startedHere];
    expect(startedHere.filter(Boolean)).toHaveLength(1);
    expect(new Set([...both.map((server) => server.pid), inOther.pid]).size).toBe(1);
    for (const server of both) {
      const client = await connect(server.url);
      expect((await client.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'vad' }]);
      await client.end();
    }
    expect(existsSync(`${fresh}.initdb`)).toBe(false);
    await other.kill();
    await Promise.all(both.map((server) => server.release()));
    expect(await isPortOpen('127.0.0.1', freshPort, 1000)).toBe(false);
  });
});
