import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jobIds } from '@vad/queue';
import { generateVideo } from '@vad/testing';
import { describe, expect, it } from 'vitest';
import { INTERRUPTIBLE, useE2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, waitFor } from '../support/processes.js';

const e2e = useE2eEnvironment(
  {
    ...INTERRUPTIBLE,
    // Partial batches wait, so embedding takes long enough to be interrupted mid-job.
    VAD_BATCH_WAIT_MS: '400',
  },
  { tinyModel: true },
);

describe('embedding with worker processes', () => {
  it('an embed worker killed mid-job and started again leaves exactly one row per frame', async () => {
    const path = join(e2e.config.storage.root, 'scene.mp4');
    await generateVideo(path, { durationS: 60, source: 'testsrc' });
    const submitted = await runVad(['submit', path, '--json'], e2e.env);
    const { videoId } = (JSON.parse(submitted.stdout) as { result: { videoId: string } }).result;

    const ingest = startWorkerProcess('ingest-worker', e2e.env);
    let embed = startWorkerProcess('embed-worker', e2e.env);
    try {
      const count = async () => (await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length;
      await waitFor('first embeddings', count, (n) => n > 0, 60_000, 20);
      expect(await embed.stop('SIGKILL')).toBe(null);
      const atKill = await count();
      expect(atKill).toBeLessThan(120);
      const active = await e2e.queues.embed.getJobCounts('active', 'waiting');
      expect((active.active ?? 0) + (active.waiting ?? 0)).toBeGreaterThan(0);

      embed = startWorkerProcess('embed-worker', e2e.env);
      await waitFor(
        'aggregate runnable',
        () => e2e.queues.aggregate.getJobState(jobIds.aggregate(videoId)),
        (s) => s === 'waiting' || s === 'prioritized',
        90_000,
      );
      const frames = await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny');
      expect(frames.map((f) => f.frameIndex)).toEqual([...Array(120).keys()]);
      const total = await e2e.queues.embed.getJobCounts('completed', 'failed');
      expect(total).toEqual({ completed: 15, failed: 0 });
      expect(await readdir(join(e2e.config.storage.root, 'segments', videoId))).toEqual([]);
      expect(embed.output()).toContain('"provider":"cpu"');
    } finally {
      await embed.stop();
      await ingest.stop();
    }
  });

  it('lists the models and classifies an image with the CLI (synthetic model said so)', async () => {
    const list = await runVad(['models', 'list'], e2e.env);
    expect(list.stdout).toMatch(/vad-test-tiny \(VAD_MODEL\)\s+synthetic \(built\)\s+installed/);
    expect(list.stdout).toMatch(/clip-vit-base-patch32\s+download\s+missing/);
    const image = join(e2e.config.storage.root, 'orange.png');
    const sharp = (await import('sharp')).default;
    await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 250, g: 110, b: 10 } } })
      .png()
      .toFile(image);
    const result = await runVad(['classify', image, '--labels', 'normal activity,fire,fighting,shoplifting'], e2e.env);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^fire\s+\d+\.\d%/);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(4);
    expect(result.stderr).toContain('vad-test-tiny is a synthetic test model, not CLIP');
  });

  it('a missing model stops the embed worker at start with the command that installs it', async () => {
    const worker = startWorkerProcess('embed-worker', { ...e2e.env, VAD_MODEL: 'clip-vit-base-patch32' });
    expect(await worker.stop('SIGCONT')).toBe(78);
    expect(worker.output()).toMatch(
      /model "clip-vit-base-patch32" is not installed .*vad models fetch clip-vit-base-patch32/,
    );
  });
});
