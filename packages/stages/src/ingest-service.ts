import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, type Logger, type PipelineConfig, pipelineConfigSchema } from '@vad/config';
import type { Repositories, Video } from '@vad/db';
import { addEmbedJob, type IngestJobData, jobExists, jobIds, type Queues, UnrecoverableError } from '@vad/queue';
import type { SegmentStore } from '@vad/storage';
import {
  type DecodedFrame,
  DecodeError,
  decodeFrames,
  type FfmpegBinaries,
  InvalidVideoError,
  probeVideo,
  type VideoProbeResult,
} from '@vad/video';
import type { JobContext } from './job-context.js';

export interface IngestResult {
  videoId: string;
  frames: number;
  segments: number;
  /** Segments already queued or embedded by an earlier attempt, not written again. */
  segmentsSkipped: number;
}

export interface IngestServiceDeps {
  config: Pick<Config, 'ingest'>;
  repos: Pick<Repositories, 'videos' | 'frameEmbeddings'>;
  queues: Queues;
  segments: SegmentStore;
  binaries: FfmpegBinaries;
  logger: Logger;
  /** How often a stalled decode checks whether embedding has caught up. */
  backpressurePollMs?: number;
}

/**
 * Ingest one video: probe and validate it, decode it at sampleFps to RGB at
 * the model's input size, and write every `segmentFrames` frames as a
 * segment with its embed job at once, so embedding starts while decoding
 * goes on. Decoding waits while more than `maxPendingSegments` of the
 * video's segments are unembedded, which bounds disk use and keeps memory
 * flat. A retried attempt decodes again but skips segments that an earlier
 * attempt already queued or embedded.
 */
export class IngestService {
  constructor(private readonly deps: IngestServiceDeps) {}

  async ingest(data: IngestJobData, context: JobContext): Promise<IngestResult> {
    const { repos, logger } = this.deps;
    const video = await repos.videos.get(data.videoId);
    if (!video) throw new UnrecoverableError(`video ${data.videoId} does not exist`);
    const log = logger.child({ videoId: video.id, jobId: context.jobId, attempt: context.attemptsMade + 1 });
    // The settings recorded at submit decide the results, whatever this worker's own defaults are.
    const parsedPipeline = pipelineConfigSchema.safeParse(video.pipelineConfig);
    if (!parsedPipeline.success) throw new UnrecoverableError(`video ${video.id} has an invalid pipeline config`);
    const pipeline = parsedPipeline.data;

    await repos.videos.markIngesting(video.id);
    const stale = await this.deps.segments.removeTemporaries(video.id);
    if (stale > 0) log.warn({ stale }, 'removed half-written segments of an earlier, killed attempt');
    const probe = await probeVideo(video.sourceUri, this.deps.binaries).catch(asBadInput);
    await repos.videos.saveProbe(video.id, {
      durationMs: probe.durationMs,
      fps: probe.fps,
      width: probe.width,
      height: probe.height,
      codec: probe.codec,
    });
    log.info({ probe }, 'ingest started');

    const result = await this.decodeIntoSegments(video, pipeline, probe, context).catch(asBadInput);
    if (result.frames === 0) throw new UnrecoverableError('no frames could be decoded from the video');
    await repos.videos.markIngested(video.id, result.frames, result.segments);
    await context.updateProgress({ percent: 100, framesDecoded: result.frames, segmentsWritten: result.segments });
    log.info({ frames: result.frames, segments: result.segments, skipped: result.segmentsSkipped }, 'ingest finished');
    return result;
  }

  private async decodeIntoSegments(
    video: Video,
    pipeline: PipelineConfig,
    probe: Pick<VideoProbeResult, 'durationMs'>,
    context: JobContext,
  ): Promise<IngestResult> {
    const { logger } = this.deps;
    const { sampleFps, inputSize, segmentFrames } = pipeline;
    const { durationMs } = probe;
    let pending: DecodedFrame[] = [];
    let segments = 0;
    let segmentsSkipped = 0;
    let frames = 0;
    let lastPtsMs = 0;

    // One segment is written (and its job queued) while decoding fills the next,
    // so ffmpeg is not paused for file and database I/O: at most two segments in memory.
    let writing: Promise<void> | undefined;
    const flush = async () => {
      if (pending.length === 0) return;
      if (writing) await writing;
      const batch = pending;
      pending = [];
      const segmentIndex = segments;
      segments += 1;
      const framesSoFar = frames;
      const percent = Math.min(100, Math.round((lastPtsMs / Math.max(1, durationMs)) * 100));
      const task = (async () => {
        const written = await this.writeSegment(video, pipeline, segmentIndex, batch, context.signal);
        if (!written) segmentsSkipped += 1;
        await this.deps.repos.videos.recordIngestProgress(video.id, framesSoFar, segmentIndex + 1);
        await context.updateProgress({ percent, framesDecoded: framesSoFar, segmentsWritten: segmentIndex + 1 });
      })();
      task.catch(() => {}); // observed by the next `await writing`
      writing = task;
    };

    const decoder = decodeFrames(video.sourceUri, this.deps.binaries, {
      sampleFps,
      size: inputSize,
      signal: context.signal,
      onLog: (line) => logger.debug({ videoId: video.id, ffmpeg: line }, 'ffmpeg'),
    });
    try {
      for await (const frame of decoder) {
        pending.push(frame);
        frames += 1;
        lastPtsMs = frame.ptsMs;
        if (pending.length === segmentFrames) await flush();
      }
      await flush();
    } finally {
      // Never leave a write running behind a failed or interrupted attempt.
      await writing?.catch(() => {});
    }
    await writing;
    return { videoId: video.id, frames, segments, segmentsSkipped };
  }

  /** Writes one segment and queues its embed job; false when an earlier attempt already did. */
  private async writeSegment(
    video: Pick<Video, 'id' | 'priority' | 'urgent'>,
    pipeline: PipelineConfig,
    segmentIndex: number,
    frames: DecodedFrame[],
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const { queues, segments, repos, config } = this.deps;
    const { model, inputSize: size } = pipeline;
    const { id: videoId, priority, urgent } = video;
    const firstFrameIndex = frames[0]?.index ?? 0;
    const lastFrameIndex = firstFrameIndex + frames.length - 1;
    const done =
      (await jobExists(queues.embed, jobIds.embed(videoId, segmentIndex))) ||
      (await repos.frameEmbeddings.countInRange(videoId, model, firstFrameIndex, lastFrameIndex)) === frames.length;
    if (done) return false;

    const pollMs = this.deps.backpressurePollMs ?? 250;
    while ((await segments.countPending(videoId)) >= config.ingest.maxPendingSegments) {
      await sleep(pollMs, undefined, { signal });
    }

    await segments.write(
      {
        videoId,
        segmentIndex,
        width: size,
        height: size,
        frames: frames.map((f) => ({ index: f.index, ptsMs: f.ptsMs })),
      },
      frames.map((f) => f.rgb),
    );
    await addEmbedJob(
      queues,
      { videoId, segmentIndex, firstFrameIndex, frameCount: frames.length, model, ...(urgent ? { urgent } : {}) },
      priority ? { priority } : {},
    );
    return true;
  }
}

/** Problems with the file itself can never succeed on retry. */
function asBadInput(error: unknown): never {
  if (error instanceof InvalidVideoError || error instanceof DecodeError) {
    throw new UnrecoverableError(error.message);
  }
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new UnrecoverableError('source file no longer exists');
  }
  throw error;
}
