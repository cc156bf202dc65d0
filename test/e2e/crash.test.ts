import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIncidentVideo } from '@vad/testing';
import { describe, expect, it } from 'vitest';
import { INTERRUPTIBLE, useE2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';

const e2e = useE2eEnvironment(
  { ...INTERRUPTIBLE, VAD_MAX_PENDING_SEGMENTS: '2', VAD_BATCH_WAIT_MS: '300' },
  { tinyModel: true },
);

describe('SIGKILL of each worker role in the middle of a run', () => {
  it('the video still completes, with exactly one row per frame and one scoring run', async () => {
    const path = join(e2e.config.storage.root, 'gate.mp4');
    await generateIncidentVideo(path, { durationS: 60, from: 30, to: 40 });
    const { videoId } = (
      JSON.parse((await runVad(['submit', path, '--json'], e2e.env)).stdout) as { result: { videoId: string } }
    ).result;
    const video = () => e2e.repos.videos.get(videoId);
    const frames = async () => (await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length;
    const running: WorkerProcess[] = [];
    const start = (app: string) => {
      const worker = startWorkerProcess(app, e2e.env);
      running.push(worker);
      return worker;
    };
    try {
      // Ingest, killed while it waits on unembedded segments (no embed worker yet).
      const ingest = start('ingest-worker');
      await waitFor(
        'two segments',
        () => readdir(join(e2e.config.storage.root, 'segments', videoId)).catch(() => []),
        (f) => f.filter((name) => name.endsWith('.seg')).length === 2,
      );
      await ingest.stop('SIGKILL');
      start('ingest-worker');

      // Embed, killed after its first rows.
      const embed = start('embed-worker');
      await waitFor('first embeddings', frames, (n) => n > 0, 60_000, 20);
      await embed.stop('SIGKILL');
      start('embed-worker');

      // Aggregate, killed as soon as it takes the video (or just after it finished: no duplicate either way).
      const aggregate = start('aggregate-worker');
      await waitFor('aggregating', video, (v) => v?.status === 'aggregating' || v?.status === 'done', 120_000, 10);
      await aggregate.stop('SIGKILL');
      start('aggregate-worker');

      const done = await waitFor('done', video, (v) => v?.status === 'done' || v?.status === 'failed', 120_000);
      expect(done?.error).toBeNull();
      expect(done?.status).toBe('done');
      const rows = await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny');
      expect(rows.map((r) => r.frameIndex)).toEqual([...Array(120).keys()]);
      const runs = await e2e.databaseRows('select count(*)::int as n from scoring_runs where video_id = $1', [videoId]);
      expect(runs).toEqual([{ n: 1 }]);
      const run = await e2e.repos.scoring.latestRun(videoId);
      const events = await e2e.repos.scoring.eventsOf(run?.id ?? '');
      expect(events).toHaveLength(1);
      // Every segment was deleted as it was embedded, and the scored video's folder with them.
      expect(await readdir(join(e2e.config.storage.root, 'segments', videoId)).catch(() => 'gone')).toBe('gone');
    } finally {
      for (const worker of running) await worker.stop('SIGTERM');
    }
  });
});
