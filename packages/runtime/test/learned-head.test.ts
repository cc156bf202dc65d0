import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipScore } from '@vad/db';
import { scoringOverridesSchema } from '@vad/queue';
import { frameLabelsCsv, generateLabelledFootage, type LabelledVideo, labelsCsv, waitFor } from '@vad/testing';
import {
  headArtifacts,
  loadTrainingSet,
  readFrameLabels,
  readLabels,
  TrainingRepository,
  trainHead,
  writeHead,
} from '@vad/training';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRoles } from '../src/index.js';
import { finished, useRuntimeEnvironment } from './support.js';

// 4-second clips every 2 seconds: a 30-second video is 14 clips.
const t = useRuntimeEnvironment({ VAD_CLIP_FRAMES: '8', VAD_CLIP_STRIDE: '4', VAD_SEGMENT_FRAMES: '32' });

/** ROC AUC (ties count half): the test's own, independent of the one training uses. */
function auc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((n, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

/** Frame-level scores and truth of a run: each sampled frame scored by the highest clip holding it. */
async function frameTruth(videoId: string, clips: ClipScore[], truth: LabelledVideo) {
  const frames = await t.db.repos.frameEmbeddings.listFrames(videoId, t.config.models.model);
  return frames.map((f) => ({
    score: Math.max(0, ...clips.filter((c) => f.ptsMs >= c.startMs && f.ptsMs < c.endMs).map((c) => c.anomalyScore)),
    label: truth.intervals.some((i) => f.ptsMs >= i.startS * 1000 && f.ptsMs < i.endS * 1000) ? 1 : 0,
  }));
}

const videos: { truth: LabelledVideo; id: string }[] = [];
let train: LabelledVideo[] = [];
let heldOut: LabelledVideo[] = [];

beforeAll(async () => {
  t.track(await startRoles(['ingest', 'embed', 'aggregate'], t.config, t.logger));
  const dir = join(t.config.storage.root, 'footage');
  train = await generateLabelledFootage({ dir, normal: 10, anomalous: 10, prefix: 'lot', seed: 1 });
  heldOut = await generateLabelledFootage({ dir, normal: 4, anomalous: 4, prefix: 'gate', seed: 2 });
  for (const truth of [...train, ...heldOut]) {
    const { videoId } = await t.producer.submit.submit({ path: truth.path, camera: 'yard' });
    videos.push({ truth, id: videoId });
  }
  for (const { id } of videos) expect((await finished(t, id, 180_000))?.status).toBe('done');
}, 300_000);

describe('a learned head (vad train) on generated footage whose anomalies no prompt names', () => {
  it('trains in seconds, and its rescore beats zero-shot prompts clearly on held-out videos', async () => {
    const labels = join(t.config.storage.root, 'labels.csv');
    const frameLabels = join(t.config.storage.root, 'frames.csv');
    await writeFile(labels, labelsCsv(train));
    // Frame-level annotations for half of the anomalous videos, as a user may have for some.
    await writeFile(frameLabels, frameLabelsCsv(train.filter((v) => v.label === 'anomalous').slice(0, 5)));
    const set = await loadTrainingSet(
      {
        repository: new TrainingRepository(t.db.db),
        frameEmbeddings: t.db.repos.frameEmbeddings,
      },
      {
        model: t.config.models.model,
        labels: await readLabels(labels),
        frameLabels: await readFrameLabels(frameLabels),
      },
    );
    expect(set.classes).toEqual(['Normal', 'Teal', 'Violet']);
    expect(set.videos).toHaveLength(20);
    const result = await trainHead(set, { seed: 3, epochs: 80, patience: 15, validationFraction: 0.2 });
    expect(result.seconds).toBeLessThan(60);
    expect(result.validation.auc).toBeGreaterThan(0.8);
    const { onnx, card } = headArtifacts(set, result);
    const written = await writeHead(t.config.models.dir, 'yard-v1', onnx, card);
    expect(written.sha256).toBe(
      createHash('sha256')
        .update(await readFile(written.file))
        .digest('hex'),
    );

    const learned: { score: number; label: number }[] = [];
    const prompts: { score: number; label: number }[] = [];
    const topLabels: [string, string][] = [];
    for (const { truth, id } of videos.filter((v) => heldOut.includes(v.truth))) {
      const before = await t.db.repos.scoring.latestRun(id);
      if (!before) throw new Error(`no prompts run for ${truth.name}`);
      const jobId = await t.producer.control.rescore(id, { mode: 'learned', head: 'yard-v1' });
      const job = await waitFor(
        `rescore of ${truth.name}`,
        () => t.producer.queues.aggregate.getJob(jobId),
        (j) => Boolean(j?.finishedOn),
        60_000,
      );
      expect(job?.failedReason).toBeUndefined();
      const run = await t.db.repos.scoring.latestRun(id);
      if (!run || run.id === before.id) throw new Error(`no learned run for ${truth.name}`);
      expect(run.params).toMatchObject({
        mode: 'learned',
        head: { name: 'yard-v1', sha256: written.sha256, classes: ['Normal', 'Teal', 'Violet'] },
      });
      // The head names the kind it was taught: its most anomalous clip carries the class.
      const clips = await t.db.repos.scoring.clipsOf(run.id);
      const top = clips.reduce((a, b) => (b.anomalyScore > a.anomalyScore ? b : a));
      if (truth.className) topLabels.push([truth.className, top.label]);
      learned.push(...(await frameTruth(id, clips, truth)));
      prompts.push(...(await frameTruth(id, await t.db.repos.scoring.clipsOf(before.id), truth)));
    }
    const learnedAuc = auc(
      learned.map((f) => f.score),
      learned.map((f) => f.label),
    );
    const promptsAuc = auc(
      prompts.map((f) => f.score),
      prompts.map((f) => f.label),
    );
    console.info(`frame AUC on held-out videos: learned ${learnedAuc.toFixed(3)}, prompts ${promptsAuc.toFixed(3)}`);
    expect(learnedAuc).toBeGreaterThan(0.9);
    expect(learnedAuc - promptsAuc).toBeGreaterThan(0.25);
    expect(topLabels.map(([, got]) => got)).toEqual(topLabels.map(([expected]) => expected));
  });

  it('a rescore naming a path instead of a head is refused (API and CLI at once, a worker before it runs) and leaves the earlier results current', async () => {
    const [{ id } = { id: '' }] = videos;
    expect(scoringOverridesSchema.safeParse({ mode: 'learned', head: '../yard-v1' }).error?.issues[0]?.message).toMatch(
      /not a path/,
    );
    const before = await t.db.repos.scoring.latestRun(id);
    const jobId = await t.producer.control.rescore(id, { mode: 'learned', head: '../yard-v1' });
    const job = await waitFor(
      'the rescore to fail',
      () => t.producer.queues.aggregate.getJob(jobId),
      (j) => Boolean(j?.finishedOn),
    );
    expect(job?.failedReason).toMatch(/not a path/);
    expect((await t.db.repos.scoring.latestRun(id))?.id).toBe(before?.id);
    expect((await t.db.repos.videos.get(id))?.status).toBe('done');
  });
});
