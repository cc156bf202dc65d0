import { join } from 'node:path';
import { hashPipelineConfig, type PipelineConfig } from '@vad/config';
import { addVideoFlow, createQueues, jobIds, type Queues, queueConnectionOf } from '@vad/queue';
import { SegmentStore } from '@vad/storage';
import { generateVideoWithExtension, useTestEnvironment } from '@vad/testing';
import { resolveFfmpegBinaries, VIDEO_EXTENSIONS } from '@vad/video';
import { beforeAll, describe, expect, it } from 'vitest';
import { IngestService } from '../src/index.js';

/**
 * Every extension vad accepts goes through the ingest stage as a worker runs
 * it: probe (with the binaries vad picks: on a fresh machine the static npm
 * builds, whose ffprobe crashed on MPEG-TS), decode at the sampling rate,
 * segments written and their embed jobs queued.
 */
const env = useTestEnvironment({
  tinyModel: false,
  env: { VAD_SAMPLE_FPS: '2', VAD_SEGMENT_FRAMES: '4', VAD_MAX_PENDING_SEGMENTS: '8' },
});
const DURATION_S = 3;
let queues: Queues;
let segments: SegmentStore;
let service: IngestService;
let pipeline: PipelineConfig;

beforeAll(async () => {
  const connection = queueConnectionOf(env.config, 'worker');
  env.track({ close: () => connection.close() });
  queues = env.track(createQueues(env.config, connection));
  segments = new SegmentStore(env.config.storage.root);
  pipeline = { ...env.config.pipeline, inputSize: 32 };
  service = new IngestService({
    config: env.config,
    repos: env.db.repos,
    queues,
    segments,
    binaries: resolveFfmpegBinaries(),
    logger: env.logger,
  });
});

describe('ingest of every accepted extension', () => {
  it.each([...VIDEO_EXTENSIONS])('ingests a %s recording into segments', async (ext) => {
    const dir = join(env.config.storage.root, 'sources');
    const path = await generateVideoWithExtension(dir, ext, {
      durationS: DURATION_S,
      width: 160,
      height: 120,
      fps: 25,
      name: 'camera',
    });
    const { video } = await env.db.repos.videos.insertOrGet({
      sourceUri: path,
      sha256: Buffer.from(ext).toString('hex').padEnd(64, '0'),
      bytes: 1,
      model: pipeline.model,
      pipelineConfig: pipeline,
      configHash: hashPipelineConfig(pipeline),
    });
    await addVideoFlow(queues, env.config, video.id);

    const result = await service.ingest(
      { videoId: video.id },
      { jobId: jobIds.ingest(video.id), attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
    );

    // 3 s at 2 frames per second: 6 frames, in segments of 4.
    expect(result).toMatchObject({ frames: 6, segments: 2, segmentsSkipped: 0, framesThisAttempt: 6 });
    const stored = await env.db.repos.videos.get(video.id);
    expect(stored).toMatchObject({
      status: 'embedding',
      framesDecoded: 6,
      segmentsWritten: 2,
      width: 160,
      height: 120,
    });
    expect(stored?.durationMs).toBeGreaterThanOrEqual(ext === '.dav' ? 2000 : 2900);
    const frames = [];
    for (const index of [0, 1]) {
      expect(await queues.embed.getJobState(jobIds.embed(video.id, index))).not.toBe('unknown');
      frames.push(...(await segments.read(video.id, index)).header.frames);
    }
    expect(frames).toEqual([0, 1, 2, 3, 4, 5].map((index) => ({ index, ptsMs: index * 500 })));
  });
});
