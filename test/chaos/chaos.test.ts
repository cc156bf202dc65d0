import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProducerContext } from '@vad/runtime';
import { configToEnv, createTestEnvironment, TcpProxy, TEST_QUEUE_BACKEND, type TestEnvironment } from '@vad/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';
import { ROLE_APPS, type Role, WorkerCluster } from './cluster.js';
import { IsolatedHost } from './isolated-host.js';
import { RedisInstance } from './redis-instance.js';
import { describeUnfinished, makeVideos, renderResults, type ScenarioResult, settle, submitAll } from './scenario.js';

/**
 * Faults a night can bring, against real processes: workers killed with
 * SIGKILL, Redis killed and restarted from its append-only file, PostgreSQL
 * unreachable, the storage disk full. `npm test` runs a short variant;
 * `npm run chaos` (VAD_CHAOS=full) the long one, whose figures go to
 * test/chaos/results.md and the README. With VAD_TEST_QUEUE_BACKEND=postgres
 * the queues live in PostgreSQL (behind the same cuttable proxy): the Redis
 * scenario is skipped, and the long run's figures go to results-postgres.md.
 */
const FULL = process.env.VAD_CHAOS === 'full';
const settings = FULL
  ? {
      videos: 6,
      durationS: 90,
      kills: 20,
      databaseDownS: 120,
      diskFreedAfterS: 60,
      hostCutS: 60,
      lockMs: 15_000,
      deadlineS: 900,
    }
  : {
      videos: 3,
      durationS: 60,
      kills: 4,
      databaseDownS: 10,
      diskFreedAfterS: 15,
      hostCutS: 15,
      lockMs: 3_000,
      deadlineS: 240,
    };

const ON_POSTGRES = TEST_QUEUE_BACKEND === 'postgres';
const results: ScenarioResult[] = [];
const TIMEOUT = (settings.deadlineS + 180) * 1000;
const sources = mkdtempSync(join(tmpdir(), 'vad-chaos-videos-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A full disk needs a small file system of the test's own: a tmpfs, which only root may mount. */
function canMountTmpfs(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'vad-chaos-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

interface Run {
  env: TestEnvironment;
  /** The variables the workers run with. */
  workerEnv: Record<string, string>;
  cluster: WorkerCluster;
  redis: RedisInstance;
  database: TcpProxy;
  ids: string[];
  unfinished(): Promise<boolean>;
  /** How to replay the fault's random draw (e.g. `VAD_CHAOS_KILLS=ingest,embed`), said when the scenario fails. */
  replay?: string;
}

/** A fresh deployment (database, Redis, storage, one process per role), some videos, a fault, and the checks. */
async function scenario(
  name: string,
  /** Breaks something; says what it did, e.g. "20 kills". */
  fault: (run: Run) => Promise<string>,
  options: {
    storage?: string;
    /** The roles this host starts with (default all). */
    roles?: Role[];
    /** Starts more before the videos arrive (e.g. a second host); closed at the end. */
    setup?: (run: Run) => Promise<{ lines(): string[]; close(): Promise<void> }>;
  } = {},
): Promise<ScenarioResult> {
  const redis = new RedisInstance();
  await redis.start();
  const env = await createTestEnvironment({
    env: {
      VAD_REDIS_URL: redis.url,
      VAD_SEGMENT_FRAMES: '16',
      VAD_EMBED_CONCURRENCY: '1',
      // Partial batches wait: embedding takes long enough for faults to land in the middle of it.
      VAD_BATCH_WAIT_MS: '200',
      VAD_LOCK_DURATION_MS: String(settings.lockMs),
      VAD_JOB_BACKOFF_MS: '500',
      VAD_RECONCILE_EVERY_S: '10',
      ...(options.storage ? { VAD_STORAGE_DIR: options.storage } : {}),
    },
  });
  const database = await new TcpProxy({ host: '127.0.0.1', port: 5432 }).start();
  const workerEnv = {
    ...configToEnv(env.config),
    VAD_DATABASE_URL: database.urlFor(env.config.database.url),
    VAD_LOG_LEVEL: 'info',
  };
  const cluster = new WorkerCluster(workerEnv);
  let extra: { lines(): string[]; close(): Promise<void> } | undefined;
  const producer = new ProducerContext(env.config, env.logger, { poolSize: 2, applicationName: 'vad-chaos' });
  try {
    for (const role of options.roles ?? (Object.keys(ROLE_APPS) as Role[])) cluster.start(role);
    const folder = join(sources, name.replace(/\W+/g, '-'));
    mkdirSync(folder, { recursive: true });
    const paths = await makeVideos(folder, settings.videos, settings.durationS);
    const run: Run = {
      env,
      workerEnv,
      cluster,
      redis,
      database,
      ids: [],
      unfinished: async () =>
        (await Promise.all(run.ids.map((id) => env.db.repos.videos.get(id)))).some(
          (v) => v?.status !== 'done' && v?.status !== 'failed',
        ),
    };
    extra = await options.setup?.(run);
    run.ids.push(...(await submitAll(producer, paths)));
    const { ids } = run;
    const started = Date.now();
    const did = await fault(run);
    const ended = Date.now();
    const lines = () => [...cluster.lines(), ...(extra?.lines() ?? [])];
    const result = await settle(env, name, ids, ended, lines, settings.deadlineS * 1000);
    result.fault = `${did} over ${Math.round((ended - started) / 1000)} s`;
    if (run.replay) result.replay = run.replay;
    if (result.done < result.videos) result.unfinished = await describeUnfinished(env, producer.queues, ids);
    // When the last video was done, from the database (finished_at is the first completion).
    const { rows } = await env.db.pool.query<{ last: Date | null }>(
      'select max(finished_at) as last from videos where id = any($1)',
      [ids],
    );
    const last = rows[0]?.last?.getTime();
    if (last !== undefined && result.done === result.videos) {
      result.sinceFaultS = Math.round((last - started) / 100) / 10;
      result.recoveryS = Math.max(0, Math.round((last - ended) / 100) / 10);
    }
    results.push(result);
    return result;
  } finally {
    await producer.close().catch(() => {});
    await extra?.close().catch(() => {});
    await cluster.stop();
    await database.cut();
    await env.destroy();
    await redis.destroy();
  }
}

afterAll(async () => {
  const table = renderResults(results);
  process.stdout.write(`\nchaos (${FULL ? 'full' : 'short'}, queues in ${TEST_QUEUE_BACKEND}):\n${table}\n`);
  for (const r of results) {
    for (const message of r.errorMessages) process.stdout.write(`  ${r.scenario}: ${message}\n`);
    if (r.done < r.videos || r.exactRows < r.videos || r.oneRun < r.videos) {
      // The workers' own account of a failed scenario, for whoever reads the CI log next.
      const file = join(tmpdir(), `vad-chaos-${r.scenario.replace(/\W+/g, '-')}-${Date.now()}.log`);
      writeFileSync(file, `${[...r.unfinished, '', ...r.lines].join('\n')}\n`);
      for (const line of r.unfinished) process.stdout.write(`  ${r.scenario}: ${line}\n`);
      const replay = r.replay ? ` (replay: ${r.replay})` : '';
      process.stdout.write(`  ${r.scenario}: ${r.fault ?? ''}${replay}; the workers' log lines are in ${file}\n`);
    }
  }
  if (FULL) {
    const command = ON_POSTGRES ? 'npm run chaos:postgres' : 'npm run chaos';
    const header = `# Chaos results (${command}, queues in ${TEST_QUEUE_BACKEND})\n\n${new Date().toISOString()}, ${JSON.stringify(settings)}\n\n`;
    writeFileSync(join(import.meta.dirname, ON_POSTGRES ? 'results-postgres.md' : 'results.md'), `${header}${table}\n`);
  }
  await rm(sources, { recursive: true, force: true });
});

const expectAllWell = (r: ScenarioResult) => {
  expect(r.failures).toEqual([]);
  expect({ done: r.done, exactRows: r.exactRows, oneRun: r.oneRun }).toEqual({
    done: r.videos,
    exactRows: r.videos,
    oneRun: r.videos,
  });
};

describe(`chaos (${FULL ? 'full' : 'short'}, queues in ${TEST_QUEUE_BACKEND}: ${JSON.stringify(settings)})`, () => {
  it(
    `kill -9 of a random worker role × ${settings.kills} at random moments`,
    async () => {
      const result = await scenario(`kill -9 × ${settings.kills}`, async (run) => {
        const roles = Object.keys(ROLE_APPS) as Role[];
        // VAD_CHAOS_KILLS=ingest,ingest,embed replays a draw (the roles in order) instead of a random one.
        const replay = process.env.VAD_CHAOS_KILLS?.split(',')
          .map((role) => role.trim())
          .filter((role): role is Role => {
            if (role && !Object.hasOwn(ROLE_APPS, role)) throw new Error(`VAD_CHAOS_KILLS: no role "${role}"`);
            return role !== '';
          });
        const kills = replay?.length || settings.kills;
        const killed: Role[] = [];
        while (killed.length < kills && (await run.unfinished())) {
          await sleep(1000 + Math.random() * 1500);
          const role = replay?.[killed.length] ?? (roles[Math.floor(Math.random() * roles.length)] as Role);
          await run.cluster.killAndRestart(role);
          killed.push(role);
        }
        const count = (role: Role) => killed.filter((r) => r === role).length;
        run.replay = `VAD_CHAOS_KILLS=${killed.join(',')}`;
        return `${killed.length} kills (${roles.map((r) => `${r} ${count(r)}`).join(', ')})`;
      });
      expectAllWell(result);
    },
    TIMEOUT,
  );

  // With the queues in PostgreSQL, Redis holds nothing to lose: the PostgreSQL outage below takes the queues down too.
  it.skipIf(ON_POSTGRES)(
    'Redis kill -9 in the middle of the night, restarted from its append-only file',
    async () => {
      const result = await scenario('Redis kill -9 + restart', async (run) => {
        await sleep(2000);
        await run.redis.kill();
        await sleep(3000);
        await run.redis.start();
        return 'Redis down 3 s';
      });
      expectAllWell(result);
    },
    TIMEOUT,
  );

  it(
    `PostgreSQL unreachable for ${settings.databaseDownS} s`,
    async () => {
      const result = await scenario(`PostgreSQL down ${settings.databaseDownS} s`, async (run) => {
        await sleep(2000);
        await run.database.cut();
        await sleep(settings.databaseDownS * 1000);
        await run.database.start();
        return `PostgreSQL unreachable ${settings.databaseDownS} s`;
      });
      expectAllWell(result);
    },
    TIMEOUT,
  );

  it.skipIf(!canMountTmpfs())(
    `storage disk full, freed after ${settings.diskFreedAfterS} s`,
    async () => {
      const mountpoint = mkdtempSync(join(tmpdir(), 'vad-chaos-disk-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountpoint]);
      try {
        const result = await scenario(
          `storage full ${settings.diskFreedAfterS} s`,
          async () => {
            // Another program fills the disk and keeps it full (taking back whatever embedding frees), then deletes its files.
            await sleep(500);
            const until = Date.now() + settings.diskFreedAfterS * 1000;
            const ballast: string[] = [];
            while (Date.now() < until) {
              const { bavail, bsize } = statfsSync(mountpoint);
              const free = bavail * bsize - 256 * 1024;
              if (free > 0) {
                const file = join(mountpoint, `ballast-${ballast.length}`);
                ballast.push(file);
                // The space may have gone meanwhile (a segment written): then the next round takes what is left.
                try {
                  execFileSync('fallocate', ['-l', String(free), file], { stdio: 'ignore' });
                } catch {
                  rmSync(file, { force: true });
                }
              }
              await sleep(200);
            }
            for (const file of ballast) rmSync(file, { force: true });
            return `disk full ${settings.diskFreedAfterS} s`;
          },
          { storage: join(mountpoint, 'storage') },
        );
        expectAllWell(result);
        expect(result.lines.filter((line) => /storage full/.test(line)).length).toBeGreaterThan(0);
      } finally {
        execFileSync('umount', [mountpoint]);
        await rm(mountpoint, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  it.skipIf(!IsolatedHost.available())(
    `a worker host cut off the network mid-job for ${settings.hostCutS} s`,
    async () => {
      const host = new IsolatedHost();
      let hostWorkers: WorkerProcess | undefined;
      const result = await scenario(
        `worker host cut off ${settings.hostCutS} s`,
        async (run) => {
          // Host B alone decodes and embeds at first, so it holds jobs when its cable is pulled; then host A's
          // ingest and embed workers are there too, and take B's jobs over once their locks expire.
          await sleep(2500);
          host.cut();
          run.cluster.start('ingest');
          run.cluster.start('embed');
          await sleep(settings.hostCutS * 1000);
          host.restore();
          return `host B off the network ${settings.hostCutS} s`;
        },
        {
          roles: ['aggregate', 'scheduler'],
          // Host B: a second machine in a network namespace, reaching Redis and PostgreSQL through its link.
          setup: async (run) => {
            host.create();
            const proxies = [
              await new TcpProxy({ host: '127.0.0.1', port: 5432 }, host.hostAddress).start(),
              await new TcpProxy({ host: '127.0.0.1', port: run.redis.port }, host.hostAddress).start(),
            ];
            const [database, redis] = proxies as [TcpProxy, TcpProxy];
            const env = {
              ...run.workerEnv,
              VAD_DATABASE_URL: database.urlFor(run.env.config.database.url),
              VAD_REDIS_URL: redis.urlFor(run.redis.url),
            };
            const workers = startWorkerProcess('cli', env, ['workers', '--role', 'ingest,embed,aggregate'], host.wrap);
            hostWorkers = workers;
            await waitFor(
              'host B workers running',
              async () => workers.output(),
              (o) => /vad workers running/.test(o),
            );
            return {
              lines: () =>
                workers
                  .output()
                  .split('\n')
                  .filter((line) => line.startsWith('{')),
              async close() {
                await workers.stop('SIGKILL');
                for (const proxy of proxies) await proxy.cut();
              },
            };
          },
        },
      ).finally(() => host.destroy());
      expectAllWell(result);
      expect(hostWorkers).toBeDefined();
    },
    TIMEOUT,
  );
});
