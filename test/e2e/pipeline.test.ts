import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIncidentVideo, generateVideo } from '@vad/testing';
import { describe, expect, it } from 'vitest';
import { useE2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, waitFor } from '../support/processes.js';

const e2e = useE2eEnvironment({ VAD_SEGMENT_FRAMES: '32' }, { tinyModel: true });

describe('the whole pipeline with `vad workers` as one process', () => {
  it('scores a video, lists its event, rescoring with other prompts changes labels without new embeddings', async () => {
    const path = join(e2e.config.storage.root, 'dock.mp4');
    await generateIncidentVideo(path, { durationS: 40, from: 12, to: 20 });
    const workers = startWorkerProcess('cli', e2e.env, ['workers']);
    try {
      const args = ['submit', path, '--camera', 'dock', '--recorded-at', '2026-11-28T22:00:00Z', '--json'];
      const first = JSON.parse((await runVad(args, e2e.env)).stdout) as { result: { videoId: string } };
      const videoId = first.result.videoId;
      await waitFor(
        'done',
        () => e2e.repos.videos.get(videoId),
        (v) => v?.status === 'done',
        120_000,
      );
      // The same file again: the same video, nothing new queued or scored.
      const second = JSON.parse((await runVad(args, e2e.env)).stdout) as {
        result: { videoId: string; created: boolean };
      };
      expect(second.result).toMatchObject({ videoId, created: false });

      const events = JSON.parse((await runVad(['events', '--camera', 'dock', '--format', 'json'], e2e.env)).stdout) as {
        label: string;
        startAt: string;
        startMs: number;
        endMs: number;
      }[];
      expect(events).toHaveLength(1);
      expect(['Explosion', 'Arson']).toContain(events[0]?.label);
      const event = events[0] as { startMs: number; endMs: number };
      const overlap = Math.min(event.endMs, 20_000) - Math.max(event.startMs, 12_000);
      const union = Math.max(event.endMs, 20_000) - Math.min(event.startMs, 12_000);
      expect(overlap / union).toBeGreaterThanOrEqual(0.8);
      expect(events[0]?.startAt).toBe(
        new Date(Date.parse('2026-11-28T22:00:00Z') + (events[0]?.startMs ?? 0)).toISOString(),
      );
      // Search: the words name the incident, the stored frame embeddings find it (and say how unusual it is for dock).
      const search = await runVad(['search', 'a fire with flames', '--camera', 'dock', '--format', 'json'], e2e.env);
      expect(search.code).toBe(0);
      const found = JSON.parse(search.stdout) as {
        moments: { videoId: string; startMs: number; endMs: number; relativeScore: number }[];
      };
      const top = found.moments[0] as { videoId: string; startMs: number; endMs: number; relativeScore: number };
      expect(top.videoId).toBe(videoId);
      expect(Math.min(top.endMs, 20_000) - Math.max(top.startMs, 12_000)).toBeGreaterThan(0);
      expect(top.relativeScore).toBeGreaterThan(1);
      const emptySearch = await runVad(['search', ' '], e2e.env);
      expect(emptySearch.code).toBe(2);
      expect(emptySearch.stderr).toContain('the search text is empty');
      const table = await runVad(['search', 'fire', '--limit', '3'], e2e.env);
      expect(table.stdout).toMatch(/^1\s+0\.\d{3}\s+\+\d+\.\dσ\s+dock\s/m);
      expect(table.stderr).toMatch(/exact search of \d+ frames in 1 videos/);

      const results = await runVad(['results', videoId], e2e.env);
      expect(results.stdout).toMatch(/anomaly\s+[▁▂▃▄▅▆▇█]+/);

      const embeddingsBefore = (await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length;
      const prompts = join(e2e.config.storage.root, 'prompts.json');
      await writeFile(
        prompts,
        JSON.stringify({
          name: 'two',
          templates: ['a photo of {}'],
          normal: 'Calm',
          classes: { Calm: ['normal'], Blaze: ['fire'] },
        }),
      );
      const finishedAt = (await e2e.repos.videos.get(videoId))?.finishedAt;

      // A malformed prompt file is refused before anything is queued; the video stays done.
      const broken = join(e2e.config.storage.root, 'broken.yaml');
      await writeFile(broken, 'name: broken\ntemplates: []\n');
      const refused = await runVad(['rescore', videoId, '--prompts', broken], e2e.env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--prompts .*broken\.yaml: /);
      expect((await e2e.repos.videos.get(videoId))?.status).toBe('done');
      expect(await e2e.queues.aggregate.getJobCounts('waiting', 'prioritized', 'active')).toMatchObject({
        waiting: 0,
        prioritized: 0,
        active: 0,
      });

      // The CLI queues the same rescore job as the API; the aggregate worker runs it.
      const rescore = await runVad(['rescore', videoId, '--prompts', prompts, '--wait'], e2e.env);
      expect(rescore.code).toBe(0);
      expect(rescore.stdout).toMatch(/queued +\S+ +\(job rescore\.\S+\)/);
      expect(rescore.stdout).toMatch(/rescored .*: \d+ clips, 1 events/);
      // finished_at stays the first completion (retention and the forecast count from it).
      expect((await e2e.repos.videos.get(videoId))?.finishedAt).toEqual(finishedAt);
      const after = JSON.parse((await runVad(['events', '--camera', 'dock', '--format', 'json'], e2e.env)).stdout) as {
        label: string;
      }[];
      expect(after.map((e) => e.label)).toEqual(['Blaze']);
      expect((await e2e.repos.frameEmbeddings.listFrames(videoId, 'vad-test-tiny')).length).toBe(embeddingsBefore);
      const runs = await e2e.repos.scoring.latestRun(videoId);
      expect(runs?.promptSet).toBe('two');

      // A video shorter than one clip: one clip, padded by repeating its frames, scored.
      const short = join(e2e.config.storage.root, 'short.mp4');
      await generateVideo(short, { durationS: 3, source: 'color=c=gray' });
      const shortId = (
        JSON.parse((await runVad(['submit', short, '--json'], e2e.env)).stdout) as { result: { videoId: string } }
      ).result.videoId;
      await waitFor(
        'short done',
        () => e2e.repos.videos.get(shortId),
        (v) => v?.status === 'done',
        60_000,
      );
      const shortRun = await e2e.repos.scoring.latestRun(shortId);
      const shortClips = await e2e.repos.scoring.clipsOf(shortRun?.id ?? '');
      expect(shortClips.map((c) => ({ validFrames: c.validFrames, startMs: c.startMs, endMs: c.endMs }))).toEqual([
        { validFrames: 6, startMs: 0, endMs: 3000 },
      ]);
      expect(shortClips[0]?.anomalyScore).toBeLessThan(0.5);
    } finally {
      expect(await workers.stop()).toBe(0);
    }
  });

  it('vad demo finds the known incident and says the model is synthetic', async () => {
    const demo = await runVad(['demo'], e2e.env, 120_000);
    expect(demo.code).toBe(0);
    const found = /found event:\s+\S+ – \S+\s+(\w+)\s+peak [\d.]+\s+overlap \(IoU\) (\d+)%/.exec(demo.stdout);
    expect(['Explosion', 'Arson']).toContain(found?.[1]);
    expect(Number(found?.[2])).toBeGreaterThanOrEqual(80);
    expect(demo.stdout).toContain("vad-test-tiny, vad's synthetic test model (not CLIP)");
    // The caption stage ran on the event's peak frame (the tiny captioner names the fire-like colour).
    expect(demo.stdout).toMatch(/caption: +"fire and smoke near the wall" \(vad-test-captioner\)/);
    expect(demo.stdout).toContain("vad-test-captioner, vad's tiny synthetic test captioner");
    // Which model ran is always said, installed real weights or not.
    expect(demo.stdout).toMatch(/^model: vad-test-tiny \(synthetic\)$/m);
    expect(demo.stderr).toMatch(/^model vad-test-tiny: /m);
    expect(demo.stdout).toContain('vad models fetch clip-vit-base-patch32');
  });
});
