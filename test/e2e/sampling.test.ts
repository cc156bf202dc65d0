import { join } from 'node:path';
import { generateIncidentVideo } from '@vad/testing';
import { describe, expect, it } from 'vitest';
import { useE2eEnvironment } from '../support/environment.js';
import { runVad, startWorkerProcess, waitFor } from '../support/processes.js';

const e2e = useE2eEnvironment({ VAD_SEGMENT_FRAMES: '16' }, { tinyModel: true });

interface Scored {
  videoId: string;
  events: { startMs: number; endMs: number; label: string }[];
  clips: { startMs: number; endMs: number; validFrames: number; anomalyScore: number }[];
}

function iou(a: { startMs: number; endMs: number }, b: { startMs: number; endMs: number }): number {
  const overlap = Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
  return Math.max(0, overlap) / (Math.max(a.endMs, b.endMs) - Math.min(a.startMs, b.startMs));
}

describe('sampling modes, end to end (one `vad workers`, each video under the mode it was submitted with)', () => {
  it('keyframes and motion find the incident fixed sampling finds, from fewer encoded frames', async () => {
    const path = join(e2e.config.storage.root, 'yard.mp4');
    // A still grey scene, an orange-red light from 12 to 20 s; a keyframe every 2 s.
    await generateIncidentVideo(path, { durationS: 40, from: 12, to: 20 });
    const workers = startWorkerProcess('cli', e2e.env, ['workers']);
    const scored: Record<string, Scored> = {};
    try {
      for (const sampling of ['fixed', 'keyframes', 'motion']) {
        const env = { ...e2e.env, VAD_SAMPLING: sampling };
        const submitted = await runVad(['submit', path, '--camera', 'yard', '--json'], env);
        const { videoId } = (JSON.parse(submitted.stdout) as { result: { videoId: string } }).result;
        const video = await waitFor(
          `${sampling} done`,
          () => e2e.repos.videos.get(videoId),
          (v) => v?.status === 'done' || v?.status === 'failed',
          120_000,
        );
        expect(video?.error ?? null).toBeNull();
        expect(video?.pipelineConfig).toMatchObject({ sampling });
        const results = JSON.parse((await runVad(['results', videoId, '--json'], env)).stdout) as Omit<
          Scored,
          'videoId'
        >;
        scored[sampling] = { videoId, events: results.events, clips: results.clips };
      }
    } finally {
      await workers.stop();
    }
    const fixed = scored.fixed as Scored;
    const truth = { startMs: 12_000, endMs: 20_000 };
    expect(fixed.events).toHaveLength(1);
    for (const sampling of ['keyframes', 'motion']) {
      const run = scored[sampling] as Scored;
      expect(run.events, sampling).toHaveLength(1);
      expect(iou(run.events[0] as Scored['events'][0], fixed.events[0] as Scored['events'][0])).toBeGreaterThanOrEqual(
        0.8,
      );
      expect(iou(run.events[0] as Scored['events'][0], truth)).toBeGreaterThanOrEqual(0.8);
    }

    const rows = async (videoId: string) =>
      (await e2e.databaseRows(
        `select count(*)::int as frames, count(embedding)::int as encoded,
                count(*) filter (where same_as_frame is not null)::int as reused
           from frame_embeddings where video_id = $1`,
        [videoId],
      )) as { frames: number; encoded: number; reused: number }[];
    const [fixedRows] = await rows(fixed.videoId);
    expect(fixedRows).toEqual({ frames: 80, encoded: 80, reused: 0 });

    // Motion: every sampled time has a row (rescoring and search see them all), but only frames that changed
    // (each segment's first, and the light going on and off) carry a vector.
    const motion = scored.motion as Scored;
    const [motionRows] = await rows(motion.videoId);
    expect(motionRows?.frames).toBe(80);
    expect(motionRows?.encoded).toBeLessThanOrEqual(5 + 2 + 2);
    expect((motionRows?.encoded ?? 0) + (motionRows?.reused ?? 0)).toBe(80);
    // Scores on the same clips as fixed sampling, within float16 rounding of a shared vector.
    expect(motion.clips.map((c) => [c.startMs, c.endMs])).toEqual(fixed.clips.map((c) => [c.startMs, c.endMs]));
    const diffs = motion.clips.map((c, i) => Math.abs(c.anomalyScore - (fixed.clips[i]?.anomalyScore ?? 0)));
    expect(Math.max(...diffs)).toBeLessThan(0.02);

    // Keyframes: one frame every 2 s at its own time; clips cut by time (8 s, one every 4 s) hold 4 frames each.
    const keyframes = scored.keyframes as Scored;
    const [keyRows] = await rows(keyframes.videoId);
    expect(keyRows?.frames).toBeGreaterThanOrEqual(20);
    expect(keyRows?.frames).toBeLessThanOrEqual(24);
    expect(keyRows?.encoded).toBe(keyRows?.frames);
    const times = (await e2e.repos.frameEmbeddings.listFrames(keyframes.videoId, 'vad-test-tiny')).map((f) => f.ptsMs);
    expect(times.filter((t) => t % 2000 === 0).length).toBeGreaterThanOrEqual(19);
    expect(keyframes.clips[0]).toMatchObject({ startMs: 0, endMs: 8000 });
    expect(keyframes.clips[1]).toMatchObject({ startMs: 4000, endMs: 12_000 });
    for (const clip of keyframes.clips) expect(clip.validFrames).toBeLessThanOrEqual(5);
  }, 300_000);
});
