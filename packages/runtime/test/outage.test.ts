import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Config } from '@vad/config';
import { jobIds } from '@vad/queue';
import { generateVideo, TcpProxy, TEST_QUEUE_BACKEND, waitFor } from '@vad/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

// With the queues in PostgreSQL, a job caught by the cut in the middle of BullMQ's own bookkeeping (its completion)
// stays active until the stalled check takes it back, two lock durations later: shorter locks keep the test short.
const t = useRuntimeEnvironment({
  VAD_SEGMENT_FRAMES: '8',
  VAD_JOB_ATTEMPTS: '2',
  ...(TEST_QUEUE_BACKEND === 'postgres' ? { VAD_LOCK_DURATION_MS: '10000' } : {}),
});
const proxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
const lines: { level: number; msg: string }[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let proxied: Config;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  await proxy.start();
  proxied = { ...t.config, database: { url: proxy.urlFor(t.config.database.url), explicit: true } };
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split('\n')) lines.push(JSON.parse(line));
      done();
    },
  });
  t.track(await startRoles(['ingest', 'embed', 'aggregate'], proxied, pino({ level: 'info' }, sink)));
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await proxy.cut().catch(() => {});
});

describe('a PostgreSQL outage in the middle of a video', () => {
  it('pauses the workers without spending attempts, says so once, and the video completes when it is back', async () => {
    const path = join(t.config.storage.root, 'long.mp4');
    await generateVideo(path, { durationS: 30, source: 'testsrc' });
    const { videoId } = await t.producer.submit.submit({ path });
    await waitFor(
      'embedding under way',
      () => t.db.repos.frameEmbeddings.listFrames(videoId, t.config.models.model),
      (f) => f.length >= 8,
    );

    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await proxy.start();

    const video = await finished(t, videoId, 120_000);
    expect(video?.error).toBeNull();
    expect(video?.status).toBe('done');
    const frames = await t.db.repos.frameEmbeddings.listFrames(videoId, t.config.models.model);
    expect(frames.map((f) => f.frameIndex)).toEqual([...Array(60).keys()]);
    // On Redis no attempt was spent on the outage: the jobs completed on their first counted attempt. With the
    // queues in PostgreSQL (VAD_TEST_QUEUE_BACKEND=postgres) the outage takes the queues down too: the running
    // ingest can neither finish nor be held, its lock runs out, and it is taken again with one attempt spent.
    const ingest = await t.producer.queues.ingest.getJob(jobIds.ingest(videoId));
    if (TEST_QUEUE_BACKEND === 'redis') expect(ingest?.attemptsMade).toBe(1);
    else expect(ingest?.attemptsMade).toBeLessThanOrEqual(2);
    expect(unhandled).toEqual([]);
    const outage = lines.filter((l) => /database unreachable/.test(l.msg));
    const back = lines.filter((l) => /database answers again/.test(l.msg));
    expect(outage.length).toBeGreaterThanOrEqual(1);
    expect(outage.length).toBeLessThanOrEqual(3); // at most once per role
    expect(back.length).toBe(outage.length);
  }, 180_000);
});
