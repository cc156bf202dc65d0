import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@vad/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EvaluationInputError,
  type EvaluationOptions,
  EvaluationService,
  parseUcfCrime,
  writeCurveCharts,
} from '../src/index.js';

/**
 * Three UCF-Crime-like videos at 10 fps, one-second clips (10 frames each):
 *
 *   Arrest001_x264   4 s  clips 0.2 0.9 0.4 0.1      anomalous frames 10..19 (clip 1)
 *   Arson011_x264    5 s  clips 0.6 0.3 0.3 0.7 0.2  anomalous frames 5..14 and 30..39
 *   Normal_Videos_003_x264  3 s  clips 0.1 0.6 0.3
 *
 * Frames per score (positive / negative):
 *   0.9: 10/0   0.7: 10/0   0.6: 5/15   0.4: 0/10   0.3: 5/25   0.2: 0/20   0.1: 0/20   → P 30, N 90
 */
const UCF = [
  'Arrest001_x264.mp4  Arrest  10  20  -1  -1  ',
  'Arson011_x264.mp4  Arson  5  15  30  40  ',
  'Normal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1  ',
].join('\n');

/** Mann–Whitney by its definition over every frame, written independently of the package. */
function pairwiseAuc(frames: { score: number; label: number }[]) {
  let sum = 0;
  let pairs = 0;
  for (const p of frames.filter((f) => f.label)) {
    for (const n of frames.filter((f) => !f.label)) {
      pairs++;
      sum += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

const SCORES: Record<string, { durationMs: number; clips: number[]; truth: [number, number][] }> = {
  Arrest001_x264: { durationMs: 4000, clips: [0.2, 0.9, 0.4, 0.1], truth: [[10, 20]] },
  Arson011_x264: {
    durationMs: 5000,
    clips: [0.6, 0.3, 0.3, 0.7, 0.2],
    truth: [
      [5, 15],
      [30, 40],
    ],
  },
  Normal_Videos_003_x264: { durationMs: 3000, clips: [0.1, 0.6, 0.3], truth: [] },
};

/** Every frame of the three videos, built from the table above frame by frame. */
const allFrames = (only?: (name: string) => boolean) =>
  Object.entries(SCORES)
    .filter(([name]) => !only || only(name))
    .flatMap(([, v]) =>
      Array.from({ length: v.durationMs / 100 }, (_, i) => ({
        score: v.clips[Math.floor(i / 10)] as number,
        label: v.truth.some(([s, e]) => i >= s && i < e) ? 1 : 0,
      })),
    );

let db: TestDatabase;
let service: EvaluationService;
let plotDir: string;
const ids: Record<string, string> = {};

async function seedVideo(camera: string, file: string, durationMs: number) {
  const cam = await db.repos.cameras.ensure(camera);
  const { video } = await db.repos.videos.insertOrGet({
    cameraId: cam.id,
    sourceUri: `/data/${camera}/${file}`,
    sha256: randomUUID(),
    bytes: 1,
    durationMs,
    fps: 10,
    model: 'm',
    pipelineConfig: { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 2, clipStride: 2 },
    configHash: 'p',
  });
  return { video, cameraId: cam.id };
}

async function saveRun(
  videoId: string,
  cameraId: number,
  configHash: string,
  scores: number[],
  events: [number, number, number][],
) {
  await db.repos.scoring.saveRun(
    {
      id: randomUUID(),
      videoId,
      model: 'm',
      promptSet: 'ucf',
      aggregator: 'mean',
      params: { threshold: 0.5, minDurationMs: 0, mergeGapMs: 0 },
      configHash,
    },
    scores.map((score, i) => ({
      clipIndex: i,
      startMs: i * 1000,
      endMs: (i + 1) * 1000,
      validFrames: 2,
      anomalyScore: score,
      label: score >= 0.5 ? 'Abuse' : 'Normal',
      probabilities: {},
    })),
    events.map(([startMs, endMs, peakScore]) => ({
      startMs,
      endMs,
      peakMs: startMs,
      startAt: null,
      endAt: null,
      peakScore,
      label: 'Abuse',
      thumbnailPath: null,
    })),
    cameraId,
    { markVideoDone: true },
  );
}

/** Every row of the tables evaluation reads, as one fingerprint. */
async function fingerprint() {
  const out: Record<string, string> = {};
  for (const table of ['cameras', 'videos', 'scoring_runs', 'clip_scores', 'anomaly_events']) {
    const { rows } = await db.pool.query<{ n: string; h: string | null }>(
      `select count(*) as n, md5(string_agg(t::text, '|' order by t::text)) as h from ${table} t`,
    );
    out[table] = `${rows[0]?.n}:${rows[0]?.h}`;
  }
  return out;
}

const options = (overrides: Partial<EvaluationOptions> = {}): EvaluationOptions => ({
  groundTruth: parseUcfCrime(UCF, 'ucf.txt'),
  camera: 'ucf',
  threshold: 0.5,
  eventDefaults: { minDurationMs: 0, mergeGapMs: 0 },
  ...overrides,
});

beforeAll(async () => {
  db = await createTestDatabase();
  service = new EvaluationService({ repos: db.repos });
  plotDir = await mkdtemp(join(tmpdir(), 'vad-eval-'));
  const stored: Record<string, [number, number, number][]> = {
    Arrest001_x264: [[1000, 2000, 0.9]],
    Arson011_x264: [
      [0, 1000, 0.6],
      [3000, 4000, 0.7],
    ],
    Normal_Videos_003_x264: [[1000, 2000, 0.6]],
  };
  for (const [name, v] of Object.entries(SCORES)) {
    const { video, cameraId } = await seedVideo('ucf', `${name}.mp4`, v.durationMs);
    ids[name] = video.id;
    // An older run of another scoring config (every clip 0.5), then the current one.
    await saveRun(
      video.id,
      cameraId,
      'flat',
      v.clips.map(() => 0.5),
      [],
    );
    await saveRun(video.id, cameraId, 'good', v.clips, stored[name] ?? []);
  }
  // Same file name under another camera; and a video of the camera that was never scored.
  await seedVideo('other', 'Arrest001_x264.mp4', 4000);
  await seedVideo('ucf', 'Burglary005_x264.mp4', 4000);
});

afterAll(async () => {
  await db?.destroy();
  if (plotDir) await rm(plotDir, { recursive: true, force: true });
});

describe('EvaluationService on a UCF-Crime-format annotation', () => {
  it('frame-level AUC and AP of the current runs, as computed by hand and pairwise', async () => {
    const before = await fingerprint();
    const report = await service.evaluate(options());
    const [run] = report.runs;
    if (!run) throw new Error('no run');
    // AUC by hand: (10·90 + 10·90 + 5·(75 + 7.5) + 5·(40 + 12.5)) / (30·90) = 2475 / 2700.
    expect(run.metrics.auc).toBeCloseTo(11 / 12, 12);
    expect(run.metrics.auc).toBeCloseTo(pairwiseAuc(allFrames()), 12);
    // AP by hand: R ⅓ at P 1, ⅔ at 1, ⅚ at 25/40, 1 at 30/80 → ⅓ + ⅓ + ⅙·0.625 + ⅙·0.375 = ⅚.
    expect(run.metrics.ap).toBeCloseTo(5 / 6, 12);
    // Anomalous videos only: N 60 → (600 + 600 + 5·57.5 + 5·37.5) / 1800 = 67/72.
    expect(run.metrics.aucAnomalous).toBeCloseTo(67 / 72, 12);
    expect(run.metrics.aucAnomalous).toBeCloseTo(pairwiseAuc(allFrames((n) => !n.startsWith('Normal'))), 12);
    // Per class, with the normal video's frames: Arrest ranks perfectly; Arson (20 pos, 60 neg) 1025/1200.
    expect(run.perClass).toEqual([
      { class: 'Arrest', videos: 1, auc: 1, ap: 1 },
      { class: 'Arson', videos: 1, auc: expect.closeTo(41 / 48, 12), ap: expect.any(Number) },
    ]);
    expect(run.perClass[1]?.auc).toBeCloseTo(pairwiseAuc(allFrames((n) => !n.startsWith('Arrest'))), 12);
    // 10 of the normal video's 30 frames score 0.6 ≥ 0.5; its one event in 3 s is 1200 per hour.
    expect(run.metrics.falseAlarmRate).toBeCloseTo(1 / 3, 12);
    expect(run.metrics.falseAlarmsPerHour).toBeCloseTo(1200, 9);
    // Events: Arrest 1000–2000 (IoU 1), Arson 3000–4000 (IoU 1) match; Arson 0–1000 has IoU ⅓ with 500–1500.
    expect(run.metrics.events).toMatchObject({ truePositives: 2, predicted: 4, actual: 3, onNormalVideos: 1 });
    expect(run.metrics.events.precision).toBe(0.5);
    expect(run.metrics.events.f1).toBeCloseTo(4 / 7, 12);
    expect(run.eventsFrom).toEqual({ stored: 3, recomputed: 0 });
    expect(run.counts).toMatchObject({
      videos: 3,
      normalVideos: 1,
      anomalousVideos: 2,
      frames: 120,
      anomalousFrames: 30,
    });
    expect(run.label).toBe('current (good)');
    expect(report.annotations).toMatchObject({ entries: 3, matched: 3, unmatched: [], withoutRun: [] });
    expect(await fingerprint()).toEqual(before);
  });

  it('compares another scoring config by hash; another threshold re-cuts events from clip scores', async () => {
    const report = await service.evaluate(options({ runs: ['current', 'flat'], threshold: 0.65 }));
    const [current, flat] = report.runs;
    expect(flat?.label).toBe('flat');
    expect(flat?.metrics.auc).toBe(0.5);
    expect(flat?.metrics.ap).toBeCloseTo(30 / 120, 12);
    // At 0.65 only Arrest's clip 1 (0.9) and Arson's clip 3 (0.7) are events, both true.
    expect(current?.eventsFrom).toEqual({ stored: 0, recomputed: 3 });
    expect(current?.metrics.events).toMatchObject({ truePositives: 2, predicted: 2, actual: 3, precision: 1 });
    expect(current?.metrics.falseAlarmsPerHour).toBe(0);
    expect(current?.metrics.falseAlarmRate).toBe(0);
  });

  it('draws ROC and PR curves as PNG', async () => {
    const report = await service.evaluate(options({ runs: ['current', 'flat'] }));
    const paths = await writeCurveCharts(plotDir, report.runs);
    for (const path of [paths.roc, paths.pr]) {
      const meta = await sharp(await readFile(path)).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 800, height: 640 });
    }
  });

  it('names matching no video, several videos, or videos without a run are errors, and nothing changes', async () => {
    const before = await fingerprint();
    const missing = parseUcfCrime(`${UCF}\nShooting002_x264.mp4  Shooting  10  20  -1  -1\n`, 'ucf.txt');
    await expect(service.evaluate(options({ groundTruth: missing }))).rejects.toThrow(
      /1 annotated name\(s\) match no video of camera ucf .*: Shooting002_x264\.mp4 \(ucf\.txt:4\)/,
    );
    // Without a camera, Arrest001 is also on camera "other".
    const error = await service.evaluate(options({ camera: undefined })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvaluationInputError);
    expect((error as Error).message).toMatch(/ucf\.txt:1: Arrest001_x264\.mp4 matches 2 videos: .*camera other/);
    const unscored = parseUcfCrime(`${UCF}\nBurglary005_x264  Burglary  10  20  -1  -1\n`, 'ucf.txt');
    await expect(service.evaluate(options({ groundTruth: unscored }))).rejects.toThrow(
      /1 annotated video\(s\) have no scoring run .*: Burglary005_x264\.mp4 \(video [0-9a-f-]{36}, queued\): no scoring run/,
    );
    await expect(service.evaluate(options({ runs: ['nope'] }))).rejects.toThrow(/no scoring run of config nope/);
    await expect(service.evaluate(options({ camera: 'nobody' }))).rejects.toThrow('no camera named nobody');
    expect(await fingerprint()).toEqual(before);
  });

  it('with allowMissing, unmatched names and unscored videos are left out and reported', async () => {
    const gt = parseUcfCrime(
      `${UCF}\nShooting002_x264.mp4  Shooting  10  20  -1  -1\nBurglary005_x264  Burglary  10  20  -1  -1\n`,
      'ucf.txt',
    );
    const report = await service.evaluate(options({ groundTruth: gt, allowMissing: true }));
    expect(report.annotations.unmatched).toEqual(['Shooting002_x264.mp4 (ucf.txt:4)']);
    expect(report.annotations.withoutRun).toEqual([
      expect.stringMatching(/^Burglary005_x264\.mp4 \(video .*\): no scoring run$/),
    ]);
    expect(report.runs[0]?.metrics.auc).toBeCloseTo(11 / 12, 12);
  });
});
