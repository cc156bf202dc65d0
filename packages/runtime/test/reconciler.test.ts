import { join } from 'node:path';
import { Reconciler } from '@vad/operations';
import { addVideoFlow, jobIds } from '@vad/queue';
import { generateVideo } from '@vad/testing';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipelineConfigOf, startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

const t = useRuntimeEnvironment({ VAD_SEGMENT_FRAMES: '16', VAD_MAX_RECOVERIES: '2' });
let reconciler: Reconciler;
let source: string;

/** A row as a submit writes it, without its flow: what a submit during a Redis outage leaves behind. */
async function strandedRow(tag: string, values: { status?: 'queued' | 'ingesting'; recoveries?: number } = {}) {
  const { video } = await t.db.repos.videos.insertOrGet({
    sourceUri: source,
    sha256: tag.padEnd(64, '0'),
    bytes: 1,
    durationMs: 4000,
    model: t.config.models.model,
    pipelineConfig: pipelineConfigOf(t.config),
    configHash: tag,
    status: values.status ?? 'queued',
    recoveries: values.recoveries ?? 0,
  });
  return video.id;
}

beforeAll(async () => {
  source = join(t.config.storage.root, 'gate.mp4');
  await generateVideo(source, { durationS: 4, source: 'color=c=gray' });
  t.track(await startRoles(['ingest', 'embed', 'aggregate'], t.config, t.logger));
  // Looks past the grace period: a video is only judged once unchanged for two lock durations.
  reconciler = new Reconciler({
    config: t.config,
    repos: t.db.repos,
    queues: t.producer.queues,
    logger: t.logger,
    now: () => Date.now() + 3_600_000,
  });
});

describe('the reconciler', () => {
  it('requeues a video left with no job (a submit while Redis was down); --dry-run only says so', async () => {
    const id = await strandedRow('a');
    const dry = await reconciler.run({ dryRun: true });
    expect(dry.actions).toEqual([{ videoId: id, status: 'queued', action: 'requeue', reason: 'no job in any queue' }]);
    expect(await t.producer.queues.aggregate.getJobState(jobIds.aggregate(id))).toBe('unknown');

    const report = await reconciler.run();
    expect(report.actions.map((a) => a.action)).toEqual(['requeue']);
    const video = await finished(t, id);
    expect(video?.recoveries).toBe(1);
    expect((await t.db.repos.frameEmbeddings.listFrames(id, t.config.models.model)).length).toBe(8);
  });

  it('leaves a video with a live job alone, and brings a rescore left `aggregating` back to done', async () => {
    const [done] = await t.db.repos.videos.listByStatus(['done']);
    // A rescore whose worker died after marking the video: its job is gone, its results are there.
    await t.db.pool.query("update videos set status = 'aggregating' where id = $1", [done!.id]);
    await t.producer.queues.ingest.pause();
    const live = await strandedRow('b');
    await reconciler.run(); // requeues b: its flow now waits on the paused ingest queue
    const report = await reconciler.run();
    expect(report.actions).toEqual([]);
    expect(report.live).toBeGreaterThanOrEqual(1);
    expect(await t.producer.queues.aggregate.getJobState(jobIds.aggregate(live))).toBe('waiting-children');
    expect((await t.db.repos.videos.get(done!.id))?.status).toBe('done');
    await t.producer.queues.ingest.resume();
    await finished(t, live);
  });

  it('fails a video with the reason once it was recovered VAD_MAX_RECOVERIES times', async () => {
    const id = await strandedRow('c', { status: 'ingesting', recoveries: 2 });
    const report = await reconciler.run();
    expect(report.actions).toEqual([
      { videoId: id, status: 'ingesting', action: 'fail', reason: 'no job in any queue (still after 2 recoveries)' },
    ]);
    expect(await t.db.repos.videos.get(id)).toMatchObject({
      status: 'failed',
      error: 'no job in any queue (still after 2 recoveries)',
    });
  });

  it('requeues a flow whose parent waits on a child the queue store lost', async () => {
    const { queues } = t.producer;
    await queues.ingest.pause();
    const id = await strandedRow('d');
    await addVideoFlow(queues, t.config, id);
    // As Redis restarted from an append-only file that missed its last second can leave it: the child is gone.
    const redis = new Redis(t.config.redis.url);
    try {
      await redis.del(queues.ingest.toKey(jobIds.ingest(id)));
      await redis.lrem(queues.ingest.keys.wait ?? queues.ingest.toKey('wait'), 0, jobIds.ingest(id));
    } finally {
      redis.disconnect();
    }
    expect(await queues.ingest.getJobState(jobIds.ingest(id))).toBe('unknown');
    expect(await queues.aggregate.getJobState(jobIds.aggregate(id))).toBe('waiting-children');

    const dry = await reconciler.run({ dryRun: true });
    expect(dry.actions.filter((a) => a.videoId === id)).toEqual([
      { videoId: id, status: 'queued', action: 'requeue', reason: 'its flow is waiting on lost children' },
    ]);
    await queues.ingest.resume();
    await reconciler.run();
    const video = await finished(t, id);
    expect(video).toMatchObject({ status: 'done', recoveries: 1 });
  });
});
