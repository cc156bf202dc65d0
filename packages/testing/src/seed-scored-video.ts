import { randomUUID } from 'node:crypto';
import type { PipelineConfig } from '@vad/config';
import type { ClipScoreInput, EventInput, Repositories } from '@vad/db';

export interface SeedScoredVideo {
  camera: string;
  /** The video's pipeline config as the runtime records it (`pipelineConfigOf(config)`). */
  pipelineConfig: PipelineConfig;
  durationMs: number;
  sourceUri?: string;
  fps?: number;
  recordedAt?: Date;
  clips?: readonly ClipScoreInput[];
  events?: readonly EventInput[];
  /** The scoring run's params (e.g. its threshold) and config hash. */
  params?: Record<string, unknown>;
  runConfigHash?: string;
}

/**
 * A finished video with one scoring run of the given clip scores and events,
 * written straight to the database: for tests of what reads results (listings,
 * time zones, evaluation) without running the pipeline.
 */
export async function seedScoredVideo(
  repos: Pick<Repositories, 'cameras' | 'videos' | 'scoring'>,
  seed: SeedScoredVideo,
): Promise<{ videoId: string; runId: string; cameraId: number }> {
  const camera = await repos.cameras.ensure(seed.camera);
  const { video } = await repos.videos.insertOrGet({
    cameraId: camera.id,
    sourceUri: seed.sourceUri ?? `/seed/${randomUUID()}.mp4`,
    sha256: randomUUID(),
    bytes: 1,
    durationMs: seed.durationMs,
    ...(seed.fps !== undefined ? { fps: seed.fps } : {}),
    ...(seed.recordedAt ? { recordedAt: seed.recordedAt } : {}),
    model: 'vad-test-tiny',
    pipelineConfig: seed.pipelineConfig,
    configHash: randomUUID(),
  });
  const runId = randomUUID();
  await repos.scoring.saveRun(
    {
      id: runId,
      videoId: video.id,
      model: 'm',
      promptSet: 'p',
      aggregator: 'mean',
      params: seed.params ?? {},
      configHash: seed.runConfigHash ?? 'h',
    },
    seed.clips ?? [],
    seed.events ?? [],
    camera.id,
    { markVideoDone: true },
  );
  return { videoId: video.id, runId, cameraId: camera.id };
}
