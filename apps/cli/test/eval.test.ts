import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineConfigOf } from '@vad/runtime';
import { configToEnv, createTestEnvironment, seedScoredVideo, type TestEnvironment } from '@vad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './run-cli.js';

/** `vad eval` as a person runs it: a UCF-Crime annotation file against two scored videos. */
let env: TestEnvironment;
let dir: string;

function vad(...args: string[]): Promise<CliRun> {
  return runCli(args, { ...configToEnv(env.config), VAD_LOG_LEVEL: 'warn' });
}

/** A video of 4 s at 10 fps with one-second clips of these scores. */
async function seed(file: string, scores: number[]) {
  await seedScoredVideo(env.db.repos, {
    camera: 'ucf',
    sourceUri: `/data/ucf/${file}`,
    pipelineConfig: pipelineConfigOf(env.config),
    durationMs: scores.length * 1000,
    fps: 10,
    params: { threshold: env.config.scoring.threshold },
    runConfigHash: 'h1',
    clips: scores.map((anomalyScore, clipIndex) => ({
      clipIndex,
      startMs: clipIndex * 1000,
      endMs: clipIndex * 1000 + 1000,
      validFrames: 2,
      anomalyScore,
      label: 'Abuse',
      probabilities: {},
    })),
  });
}

beforeAll(async () => {
  env = await createTestEnvironment({ tinyModel: false });
  dir = await mkdtemp(join(tmpdir(), 'vad-eval-cli-'));
  // Arrest001: anomalous frames 10..19 = clip 1 (0.9), and frames 20..29 share clip 2's 0.3 with the normal video.
  await seed('Arrest001_x264.mp4', [0.1, 0.9, 0.3, 0.1]);
  await seed('Normal_Videos_003_x264.mp4', [0.2, 0.3, 0.1, 0.2]);
  await writeFile(
    join(dir, 'ucf.txt'),
    'Arrest001_x264.mp4  Arrest  10  30  -1  -1\nNormal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1\n',
  );
  await writeFile(join(dir, 'bad.txt'), 'Arrest001_x264.mp4  Arrest  10  30  -1\n');
  await writeFile(join(dir, 'extra.txt'), 'Shooting002_x264.mp4  Shooting  1  2  -1  -1\n');
});

afterAll(async () => {
  await env?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vad eval', () => {
  it('prints a table, JSON and CSV, and draws the curves', async () => {
    const gt = join(dir, 'ucf.txt');
    const [tableOut, json, csv] = await Promise.all([
      vad('eval', '--annotations', gt, '--camera', 'ucf'),
      vad('eval', '--annotations', gt, '--format', 'json', '--plot', join(dir, 'plots')),
      vad('eval', '--annotations', gt, '--format', 'csv', '--threshold', '0.25'),
    ]);
    // Positives: 10 frames at 0.9, 10 at 0.3; negatives 0.1 ×20, 0.3 ×10, 0.2 ×20, 0.1 ×10 (normal)…
    // AUC = (10·60 + 10·(50 + 10/2)) / (20·60) = 1150 / 1200.
    expect(tableOut.stderr).toBe('');
    expect(tableOut.code).toBe(0);
    expect(tableOut.stdout).toMatch(/^AUC, all frames\s+0\.9583$/m);
    expect(tableOut.stdout).toMatch(/^AUC Arrest \(1 video \+ normal\)\s+0\.9583$/m);
    expect(tableOut.stdout).toMatch(/^videos\s+2$/m);
    const report = JSON.parse(json.stdout) as { runs: { metrics: { auc: number }; label: string }[] };
    expect(report.runs[0]?.metrics.auc).toBeCloseTo(1150 / 1200, 12);
    expect(report.runs[0]?.label).toBe('current (h1)');
    expect(json.stderr).toContain('roc.png');
    expect((await stat(join(dir, 'plots', 'roc.png'))).size).toBeGreaterThan(1000);
    // At 0.25, the normal video's clip 1 (0.3) is a false alarm: 10 of its 40 frames.
    expect(csv.stdout.split('\n')[0]).toBe('metric,current (h1)');
    expect(csv.stdout).toMatch(/^false_alarm_rate,0\.25$/m);
  });

  it('bad input exits 2 naming the line or the video; --allow-missing leaves unmatched names out', async () => {
    const [gt, extra] = [join(dir, 'ucf.txt'), join(dir, 'extra.txt')];
    const [malformed, missing, allowed] = await Promise.all([
      vad('eval', '--annotations', join(dir, 'bad.txt')),
      vad('eval', '--annotations', gt, '--annotations', extra),
      vad('eval', '--annotations', gt, '--annotations', extra, '--allow-missing'),
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('bad.txt:1: expected an even number of frame numbers, got 3');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/match no video.*Shooting002_x264\.mp4 \(.*extra\.txt:1\)/);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('left out, no video: Shooting002_x264.mp4');
  });
});
