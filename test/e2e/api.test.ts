import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createApiToken } from '@vad/config';
import { ensureTinyModel, generateVideo } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eEnvironment, type E2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, type WorkerProcess, waitFor } from '../support/processes.js';

const admin = createApiToken('ops', 'admin');
let e2e: E2eEnvironment;
let env: Record<string, string>;

beforeAll(async () => {
  e2e = await createE2eEnvironment(
    {
      VAD_MODEL: 'vad-test-tiny',
      VAD_EXECUTION_PROVIDER: 'cpu',
      VAD_SEGMENT_FRAMES: '16',
      VAD_API_PORT: '0',
      VAD_API_TOKENS: admin.entry,
    },
    { migrate: false },
  );
  env = e2e.env;
  await ensureTinyModel(e2e.config.models.dir);
});

afterAll(() => e2e.destroy());

describe('the API and the workers as processes, as the README runs them', () => {
  it('migrates, accepts an upload, and serves its events; `vad queues` and `vad tokens` work', async () => {
    const video = join(e2e.config.storage.root, 'yard.mp4');
    await generateVideo(video, {
      durationS: 20,
      source: 'color=c=gray',
      filters: "drawbox=x=0:y=0:w=iw:h=ih:color=orangered:t=fill:enable='between(t,8,14)'",
    });
    const running: WorkerProcess[] = [];
    try {
      // `vad api` on a fresh database: it migrates first.
      const api = startWorkerProcess('cli', env, ['api']);
      running.push(api);
      const listening = await waitFor(
        'api listening',
        async () => /listening on (http:\/\/[\d.:]+)/.exec(api.output())?.[1],
        (url) => url !== undefined,
        30_000,
      );
      const base = String(listening);
      running.push(startWorkerProcess('cli', env, ['workers']));

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

      const queues = await runVad(['queues', '--json'], env);
      expect(queues.code).toBe(0);
      const report = JSON.parse(queues.stdout) as { queues: { name: string; counts: { completed: number } }[] };
      expect(report.queues.find((q) => q.name === 'embed')?.counts.completed).toBeGreaterThanOrEqual(3);
      const table = await runVad(['queues'], env);
      expect(table.stdout).toMatch(/embed\s+running/);
      expect(table.stdout).toMatch(/backlog: 0 videos/);

      const token = await runVad(['tokens', 'create', 'grafana', '--scope', 'read'], env);
      expect(token.stdout).toMatch(/grafana:read:[0-9a-f]{64}/);

      expect(await api.stop('SIGTERM')).toBe(0);
    } finally {
      for (const process of running) await process.stop('SIGTERM');
    }
  });
});
