import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTinyModel, folderSnapshot, freePorts, generateIncidentVideo } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandResult, runVad, startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';

/*
 * vad on a machine with only Node.js: no PostgreSQL, no Redis (the addresses
 * configured point at ports nothing listens on). Every process starts or
 * joins the one embedded PostgreSQL server of VAD_EMBEDDED_DIR, which holds
 * the results and (VAD_QUEUE_BACKEND=postgres) the queues; the last one out
 * stops it, the data folder is kept.
 */

const root = mkdtempSync(join(tmpdir(), 'vad-e2e-embedded-'));
// Run as root, vad runs postgres as the postgres user, which must pass through the folders above the data folder.
chmodSync(root, 0o755);
const dataDir = join(root, 'postgres');
const storageDir = join(root, 'storage');
const modelDir = join(root, 'models');

let embeddedPort = 0;
let closedDatabasePort = 0;
let closedRedisPort = 0;
const workers: WorkerProcess[] = [];
const listeners: Server[] = [];

async function listen(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  listeners.push(server);
  return server;
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The postmaster's pid from the data folder's postmaster.pid, while there is one. */
function postmasterPid(dir = dataDir): number | undefined {
  const path = join(dir, 'postmaster.pid');
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0] ?? '', 10);
  return pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded server of the data folder runs and answers on its port. */
async function serverRunning(): Promise<boolean> {
  const pid = postmasterPid();
  return pid !== undefined && isAlive(pid) && (await isPortOpen(embeddedPort));
}

/** The embedded server is stopped: its port closed, no postmaster.pid; the data folder is still there. */
async function expectServerStopped(): Promise<void> {
  // The last process out stops the server before it exits: allow only a moment for the port to close.
  await waitFor(
    'the embedded server to be stopped',
    async () => ({ open: await isPortOpen(embeddedPort), pid: postmasterPid() }),
    (state) => !state.open && state.pid === undefined,
    5_000,
  );
  expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
}

/** Stops a server left running (by a failed test, or a process that did not let go): SIGINT, a fast shutdown. */
async function stopLeftoverServer(): Promise<void> {
  const pid = postmasterPid();
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && existsSync(join(dataDir, 'postmaster.pid')) && isAlive(pid); i++) await sleep(100);
}

/** The environment of a vad process with nothing but the embedded server. */
function embeddedEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    VAD_EMBEDDED: 'on',
    VAD_QUEUE_BACKEND: 'postgres',
    VAD_EMBEDDED_DIR: dataDir,
    VAD_EMBEDDED_PORT: String(embeddedPort),
    // Configured, and closed: with VAD_EMBEDDED=on and the queues in PostgreSQL, neither is used.
    VAD_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedDatabasePort}/vad`,
    VAD_REDIS_URL: `redis://127.0.0.1:${closedRedisPort}`,
    VAD_QUEUE_PREFIX: '{vad}',
    VAD_STORAGE_DIR: storageDir,
    VAD_MODEL_DIR: modelDir,
    VAD_MODEL: 'vad-test-tiny',
    VAD_EXECUTION_PROVIDER: 'cpu',
    VAD_SEGMENT_FRAMES: '32',
    VAD_JOB_BACKOFF_MS: '200',
    VAD_TIMEZONE: 'UTC',
    VAD_LOG_LEVEL: 'info',
    ...overrides,
  };
}

/** Its non-empty stderr lines. */
const stderrLines = (result: CommandResult) => result.stderr.split('\n').filter((line) => line.trim());

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs vad and says how long it took. */
async function timedVad(args: string[], env: Record<string, string>): Promise<CommandResult & { ms: number }> {
  const started = Date.now();
  const result = await runVad(args, env, 30_000);
  return { ...result, ms: Date.now() - started };
}

interface EventRow {
  label: string;
  videoId: string;
  startMs: number;
  endMs: number;
}

/** The incident is 12–20 s into the video: the event found must overlap it by at least 80%. */
function expectIncident(events: EventRow[], videoId: string): void {
  expect(events).toHaveLength(1);
  const event = events[0] as EventRow;
  expect(event.videoId).toBe(videoId);
  expect(['Explosion', 'Arson']).toContain(event.label);
  const overlap = Math.min(event.endMs, 20_000) - Math.max(event.startMs, 12_000);
  const union = Math.max(event.endMs, 20_000) - Math.min(event.startMs, 12_000);
  expect(overlap / union).toBeGreaterThanOrEqual(0.8);
}

beforeAll(async () => {
  [embeddedPort = 0, closedDatabasePort = 0, closedRedisPort = 0] = await freePorts(3);
  await ensureTinyModel(modelDir);
});

afterAll(async () => {
  for (const worker of workers) {
    const stopped = worker.stop('SIGTERM');
    const timedOut = await Promise.race([stopped.then(() => false), sleep(20_000).then(() => true)]);
    if (timedOut) {
      worker.child.kill('SIGKILL');
      await stopped;
    }
  }
  await Promise.all(listeners.map(close));
  await stopLeftoverServer();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('vad with only the embedded PostgreSQL (no PostgreSQL, no Redis reachable)', () => {
  it('vad demo runs to the end, then the server is stopped and its data folder kept', async () => {
    const demo = await runVad(['demo'], embeddedEnv(), 170_000);
    expect(demo.code, demo.stderr).toBe(0);

    const found = /found event:\s+\S+ – \S+\s+(\w+)\s+peak [\d.]+\s+overlap \(IoU\) (\d+)%/.exec(demo.stdout);
    expect(found, demo.stdout).not.toBeNull();
    expect(['Explosion', 'Arson']).toContain(found?.[1]);
    expect(Number(found?.[2])).toBeGreaterThanOrEqual(80);

    // One line says where results and queues are: the embedded server this process started, queues in PostgreSQL.
    const summaries = stderrLines(demo).filter((line) => line.startsWith('vad: results in'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(
      new RegExp(
        `^vad: results in embedded PostgreSQL at 127\\.0\\.0\\.1:${embeddedPort} \\(started; data in ${escapeRegExp(dataDir)}\\); queues in PostgreSQL \\(schema bullmq_\\w+\\)$`,
      ),
    );
    // Redis was never tried.
    expect(demo.stderr).not.toMatch(/Redis|ECONNREFUSED/);

    // The last (only) process out stopped the server; the cluster and its password stay for the next run.
    await expectServerStopped();
    expect(existsSync(`${dataDir}.password`)).toBe(true);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  }, 180_000);

  describe('submit, workers and results as separate processes sharing the one server', () => {
    let videoId = '';

    it('workers start the server, the CLI joins it, the last one out stops it', async () => {
      const video = join(storageDir, 'dock.mp4');
      await generateIncidentVideo(video, { durationS: 40, from: 12, to: 20 });
      await stopLeftoverServer();

      const worker = startWorkerProcess('cli', embeddedEnv(), ['workers']);
      workers.push(worker);
      await waitFor(
        'vad workers to start',
        async () => worker.output(),
        (output) => output.includes('vad workers running') || worker.child.exitCode !== null,
        90_000,
        250,
      );
      expect(worker.output()).toContain('vad workers running');
      expect(worker.output()).toContain(
        `vad: results in embedded PostgreSQL at 127.0.0.1:${embeddedPort} (started; data in ${dataDir})`,
      );
      expect(await serverRunning()).toBe(true);
      const serverPid = postmasterPid();

      const args = ['submit', video, '--camera', 'dock', '--recorded-at', '2026-11-28T22:00:00Z', '--json'];
      const submit = await runVad(args, embeddedEnv());
      expect(submit.code, submit.stderr).toBe(0);
      // The CLI joined the workers' server instead of starting one of its own.
      expect(submit.stderr).toContain(`(shared; data in ${dataDir})`);
      videoId = (JSON.parse(submit.stdout) as { result: { videoId: string } }).result.videoId;
      expect(videoId).toBeTruthy();

      const status = await waitFor(
        'the video to be scored',
        async () => {
          const result = await runVad(['status', videoId, '--json'], embeddedEnv());
          if (result.code !== 0) return `vad status exited ${result.code}: ${result.stderr}`;
          return (JSON.parse(result.stdout) as { video: { status: string } }).video.status;
        },
        (state) => state === 'done' || state === 'failed' || state.startsWith('vad status exited'),
        150_000,
        1_000,
      );
      expect(status).toBe('done');

      const events = await runVad(['events', '--camera', 'dock', '--format', 'json'], embeddedEnv());
      expect(events.code, events.stderr).toBe(0);
      expectIncident(JSON.parse(events.stdout) as EventRow[], videoId);

      // Each command let go of the server; the workers still hold it: the same server runs.
      expect(await serverRunning()).toBe(true);
      expect(postmasterPid()).toBe(serverPid);

      expect(await worker.stop('SIGTERM')).toBe(0);
      // The workers were the last ones out: they stopped it (and said so in their log).
      expect(worker.output().slice(-3000)).toContain('embedded PostgreSQL: stopped');
      await expectServerStopped();
    }, 300_000);

    it('a later command starts the server again and still sees the results', async () => {
      expect(videoId, 'the previous test submitted a video').toBeTruthy();
      // Whatever the previous test left running, this one checks a start from a stopped server.
      await stopLeftoverServer();
      expect(await isPortOpen(embeddedPort)).toBe(false);

      const events = await runVad(['events', '--camera', 'dock', '--format', 'json'], embeddedEnv());
      expect(events.code, events.stderr).toBe(0);
      expect(events.stderr).toContain(`(started; data in ${dataDir})`);
      expectIncident(JSON.parse(events.stdout) as EventRow[], videoId);
      await expectServerStopped();
    }, 60_000);
  });

  describe('a service that does not answer stops the command at once, in one line', () => {
    /** PostgreSQL and Redis configured explicitly, the embedded server off: both at closed ports. */
    const offEnv = (overrides: Record<string, string> = {}) =>
      embeddedEnv({ VAD_EMBEDDED: 'off', VAD_QUEUE_BACKEND: '', ...overrides });

    /** Exit 69 within 10 s, with one line on stderr that names the service, its address and variable; no stack. */
    function expectUnavailable(
      result: CommandResult & { ms: number },
      service: string,
      port: number,
      variable: string,
    ) {
      expect(result.code, result.stderr).toBe(69);
      expect(result.ms).toBeLessThan(10_000);
      const lines = stderrLines(result);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^error: ${service} at 127\\.0\\.0\\.1:${port} does not answer \\(${variable}\\)\\. `),
      );
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).toBe('');
    }

    it('vad events without PostgreSQL: exit 69 naming PostgreSQL', async () => {
      const events = await timedVad(['events'], offEnv());
      expectUnavailable(events, 'PostgreSQL', closedDatabasePort, 'VAD_DATABASE_URL');
    }, 60_000);

    it('vad submit without PostgreSQL or without Redis: exit 69 naming the one that is down', async () => {
      const noDatabase = await timedVad(['submit', join(storageDir, 'x.mp4')], offEnv());
      expectUnavailable(noDatabase, 'PostgreSQL', closedDatabasePort, 'VAD_DATABASE_URL');

      // Something answers at the database's port (a stand-in: it is only probed, never spoken to); Redis does not.
      const standIn = await listen(0);
      const address = standIn.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      try {
        const noRedis = await timedVad(
          ['submit', join(storageDir, 'x.mp4')],
          offEnv({ VAD_DATABASE_URL: `postgres://postgres@127.0.0.1:${address.port}/vad` }),
        );
        expectUnavailable(noRedis, 'Redis', closedRedisPort, 'VAD_REDIS_URL');
      } finally {
        await close(standIn);
      }
    }, 60_000);

    it('vad demo on the embedded server with an explicitly configured Redis that is down: exit 69 naming Redis', async () => {
      await stopLeftoverServer();
      // The queue backend left to auto: VAD_REDIS_URL is set, so the queues are in Redis, and Redis is required.
      const demo = await timedVad(['demo'], embeddedEnv({ VAD_QUEUE_BACKEND: '' }));
      expectUnavailable(demo, 'Redis', closedRedisPort, 'VAD_REDIS_URL');
      // The server it started for nothing is stopped again.
      await expectServerStopped();
    }, 60_000);

    it('VAD_QUEUE_BACKEND=bogus: exit 78 naming the variable', async () => {
      const bogus = await timedVad(['events'], embeddedEnv({ VAD_QUEUE_BACKEND: 'bogus' }));
      expect(bogus.code, bogus.stderr).toBe(78);
      expect(bogus.ms).toBeLessThan(10_000);
      expect(bogus.stderr).toMatch(/^\s*- VAD_QUEUE_BACKEND: must be redis .*\(got "bogus"\)$/m);
      expect(bogus.stderr).not.toMatch(/^\s+at /m);
      // Nothing was started.
      expect(await isPortOpen(embeddedPort)).toBe(false);
    }, 60_000);

    it('the embedded port taken by another program: one line saying so, the data folder untouched', async () => {
      await stopLeftoverServer();
      const before = folderSnapshot(dataDir);
      const log = readFileSync(`${dataDir}.log`, 'utf8');
      const other = await listen(embeddedPort);
      try {
        const events = await timedVad(['events'], embeddedEnv());
        expect(events.code, events.stderr).not.toBe(0);
        expect(events.ms).toBeLessThan(10_000);
        const lines = stderrLines(events);
        expect(lines, events.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`port ${embeddedPort} is in use by another program`));
        expect(lines[0]).toContain('VAD_EMBEDDED_PORT');
        expect(events.stderr).not.toMatch(/^\s+at /m);
      } finally {
        await close(other);
      }
      expect(folderSnapshot(dataDir)).toEqual(before);
      expect(readFileSync(`${dataDir}.log`, 'utf8')).toBe(log);
      expect(postmasterPid()).toBeUndefined();
      expect(existsSync(`${dataDir}.lock`)).toBe(false);
    }, 60_000);
  });
});
