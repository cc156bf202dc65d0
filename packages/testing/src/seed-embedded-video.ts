import type { PipelineConfig } from '@vad/config';
import type { EventInput, Repositories } from '@vad/db';
import { seedScoredVideo } from './seed-scored-video.js';

export type Rgb = [number, number, number];

/** Frames of solid colours, size × size RGB each, one after the other (what an image encoder batch takes). */
export function solidFrames(colours: readonly Rgb[], size = 224): Uint8Array {
  const frame = size * size * 3;
  const out = new Uint8Array(colours.length * frame);
  colours.forEach(([r, g, b], n) => {
    for (let p = 0; p < size * size; p++) out.set([r, g, b], n * frame + p * 3);
  });
  return out;
}

/** A scene's colour at each second: `base`, with each span's colour from its `from` to its `to` second. */
export function colourTimeline(
  seconds: number,
  spans: readonly { from: number; to: number; colour: Rgb }[],
  base: Rgb,
) {
  return Array.from({ length: seconds }, (_, s) => spans.find((x) => s >= x.from && s < x.to)?.colour ?? base);
}

export interface SeedEmbeddedVideo {
  camera: string;
  recordedAt: Date;
  /** The colour of each sampled frame, one per second. */
  colours: readonly Rgb[];
  /** The model's image encoder: frames (solidFrames) → one vector each. */
  embed: (frames: Uint8Array, count: number) => Promise<Float32Array[]>;
  model: string;
  pipelineConfig: PipelineConfig;
  sourceUri?: string;
  events?: readonly EventInput[];
}

/**
 * A finished video (seedScoredVideo) whose sampled frames, one per second,
 * have the embeddings `embed` gives their colours, stored as the pipeline
 * stores them: for tests of what reads embeddings (search) without decoding.
 */
export async function seedEmbeddedVideo(
  repos: Pick<Repositories, 'cameras' | 'videos' | 'scoring' | 'frameEmbeddings'>,
  seed: SeedEmbeddedVideo,
): Promise<{ videoId: string; cameraId: number }> {
  const { videoId, cameraId } = await seedScoredVideo(repos, {
    camera: seed.camera,
    pipelineConfig: { ...seed.pipelineConfig, sampleFps: 1 },
    durationMs: seed.colours.length * 1000,
    recordedAt: seed.recordedAt,
    ...(seed.sourceUri ? { sourceUri: seed.sourceUri } : {}),
    events: seed.events ?? [],
  });
  const vectors = await seed.embed(solidFrames(seed.colours), seed.colours.length);
  await repos.frameEmbeddings.upsertMany(
    vectors.map((v, i) => ({
      videoId,
      frameIndex: i,
      model: seed.model,
      ptsMs: i * 1000,
      dtype: 'float32' as const,
      embedding: Buffer.from(v.buffer, v.byteOffset, v.byteLength),
    })),
  );
  await repos.videos.recordIngestProgress(videoId, seed.colours.length, 1);
  return { videoId, cameraId };
}
