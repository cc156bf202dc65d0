import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createApiToken } from '@vad/config';
import { generateIncidentVideo } from '@vad/testing';
import { describe, expect, it } from 'vitest';
import { useE2eEnvironment } from '../support/environment.js';
import { runVad, startApiProcess, startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';

const admin = createApiToken('ops', 'admin');
const e2e = useE2eEnvironment(
  {
    VAD_SEGMENT_FRAMES: '16',
    VAD_API_PORT: '0',
    VAD_API_TOKENS: admin.entry,
  },
  { tinyModel: true, migrate: false },
);

describe('the API and the workers as processes, as the README runs them', () => {
  it('migrates, accepts an upload, and serves its events; `vad queues` and `vad tokens` work', async () => {
    const video = join(e2e.config.storage.root, 'yard.mp4');
    await generateIncidentVideo(video, { durationS: 20, from: 8, to: 14 });
    const running: WorkerProcess[] = [];
    try {
      // `vad api` on a fresh database: it migrates first.
      const { api, url: base } = await startApiProcess(e2e.env, 30_000);
      running.push(api);
      running.push(startWorkerProcess('cli', e2e.env, ['workers']));

      const form = new FormData();
      form.append('camera', 'yard');
      form.append('recordedAt', '2026-11-28T22:30:00Z');
      form.append('file', new Blob([await readFile(video)]), 'yard.mp4');
      const headers = { authorization: `Bearer ${admin.token}` };
      const uploaded = await fetch(`${base}/v1/videos`, { method: 'POST', body: form, headers });
      expect(uploaded.status).toBe(201);
      const { videoId } = (await uploaded.json()) as { videoId: string };

      await waitFor(
        'done',
        async () =>
          ((await (await fetch(`${base}/v1/videos/${videoId}`, { headers })).json()) as { status: string }).status,
        (status) => status === 'done' || status === 'failed',
        120_000,
      );
      const events = (await (await fetch(`${base}/v1/events?camera=yard`, { headers })).json()) as {
        items: { videoId: string; startAt: string }[];
      };
      expect(events.items).toHaveLength(1);
      expect(events.items[0]).toMatchObject({ videoId });

      const queues = await runVad(['queues', '--json'], e2e.env);
      expect(queues.code).toBe(0);
      const report = JSON.parse(queues.stdout) as { queues: { name: string; counts: { completed: number } }[] };
      expect(report.queues.find((q) => q.name === 'embed')?.counts.completed).toBeGreaterThanOrEqual(3);
      const table = await runVad(['queues'], e2e.env);
      expect(table.stdout).toMatch(/embed\s+running/);
      expect(table.stdout).toMatch(/backlog: 0 videos/);

      const token = await runVad(['tokens', 'create', 'grafana', '--scope', 'read'], e2e.env);
      expect(token.stdout).toMatch(/grafana:read:[0-9a-f]{64}/);

      expect(await api.stop('SIGTERM')).toBe(0);
    } finally {
      for (const process of running) await process.stop('SIGTERM');
    }
  });
});
