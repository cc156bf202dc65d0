import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, type Logger, type MotionSettings, type PipelineConfig, pipelineConfigSchema } from '@vad/config';
import type { Repositories, Video } from '@vad/db';
import { addEmbedJob, type IngestJobData, type Queues, queuedSegmentFrames, UnrecoverableError } from '@vad/queue';
import { isStorageFull, type SegmentStore } from '@vad/storage';
import {
  type DecodedFrame,
  DecodeError,
  type DecodeOptions,
  decodeFrames,
  type FfmpegBinaries,
  InvalidVideoError,
  MotionGate,
  probeVideo,
  type VideoProbeResult,
} from '@vad/video';
import { type JobContext, stopIfHeld } from './job-context.js';

type DecodeResume = Parameters<NonNullable<DecodeOptions['onResume']>>[0];

export interface IngestResult {
  videoId: string;
  /** Sampled frames of the video, those of earlier attempts included. */
  frames: number;
  segments: number;
  /** Segments already queued or embedded by an earlier attempt, not written again. */
  segmentsSkipped: number;
  /** Frames this attempt decoded: fewer than `frames` when it resumed where an earlier attempt stopped. */
  framesThisAttempt: number;
  /** Of those, the frames handed to the encoder (all of them but under `motion` sampling). */
  framesEncodedThisAttempt: number;
  /** Where this attempt started decoding, when earlier attempts had queued or embedded the first segments. */
  resumedAt?: {
    segment: number;
    frame: number;
    /** ffmpeg's input seek (s); absent when it decoded from the start and dropped the frames before. */
    seekS?: number;
    /** Why it decoded from the start, when it did. */
    fromStart?: string;
  };
}

export interface IngestServiceDeps {
  config: Pick<Config, 'ingest'>;
  repos: Pick<Repositories, 'videos' | 'frameEmbeddings'>;
  queues: Queues;
  segments: SegmentStore;
  binaries: FfmpegBinaries;
  /** Whether decodes run on the GPU (`resolveHwaccel`, resolved once per process); unset: in software. */
  hwaccel?: () => Promise<'cuda' | undefined>;
  logger: Logger;
  /** How often a stalled decode checks whether embedding has caught up. */
  backpressurePollMs?: number;
  /** Retry of a segment write that found the storage full: first delay and the most it grows to, in ms. */
  storageFullRetryMs?: { initial: number; max: number };
}

/** A decoded frame on its way into a segment: with its pixels, or (motion sampling) the frame it repeats. */
type SampledFrame = Pick<DecodedFrame, 'index' | 'ptsMs'> &
  ({ rgb: Buffer; sameAs?: undefined } | { rgb?: undefined; sameAs: number });

/** The motion settings a `motion` pipeline config records. */
function motionSettings(pipeline: PipelineConfig): MotionSettings {
  if (!pipeline.motion)
    throw new UnrecoverableError('the pipeline config asks for motion sampling without motion settings');
  return pipeline.motion;
}

/** How far earlier attempts of an ingest got (see `IngestService.resumePoint`). */
interface ResumePoint {
  /** The first segment none of them queued or embedded. */
  segment: number;
  /** The frame it starts at. */
  frame: number;
  /** Whether they queued the video's last segment: nothing is left to decode. */
  finished: boolean;
}

/** One attempt's job and log, and the progress it last reported. */
interface Attempt {
  context: JobContext;
  log: Logger;
  progress: Record<string, number | string>;
}

/**
 * Ingest one video: probe and validate it, decode it at sampleFps to RGB at
 * the model's input size, and write every `segmentFrames` frames as a
 * segment with its embed job at once, so embedding starts while decoding
 * goes on. Decoding waits while more than `maxPendingSegments` of the
 * video's segments are unembedded, which bounds disk use and keeps memory
 * flat, and while the storage is full (no attempt is spent on it). A retried
 * or restarted attempt resumes decoding at the first segment that earlier
 * attempts did not queue or embed, and leaves the video's status and
 * progress as they are.
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

    if (video.status === 'failed') {
      // Another stage failed it for good (an embed job: its flow has failed): decoding on cannot help,
      // and starting over would hide why it failed.
      throw new UnrecoverableError(`video ${video.id} has failed already: ${video.error ?? 'no reason recorded'}`);
    }
    if (video.status === 'queued') {
      await repos.videos.markIngesting(video.id);
    } else {
      // A retry or a restart: the row keeps its status, start time and progress.
      log.info(
        { status: video.status, framesDecoded: video.framesDecoded, segmentsWritten: video.segmentsWritten },
        'ingest attempt resumes an earlier one',
      );
    }
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
    const resume = await this.resumePoint(video.id, pipeline);
    log.info({ probe, startSegment: resume.segment }, 'ingest started');

    const progress = { framesDecoded: resume.frame, segmentsWritten: resume.segment };
    const attempt: Attempt = { context, log, progress };
    const result = resume.finished
      ? this.decodedEarlier(video.id, resume, log)
      : await this.decodeIntoSegments(video, pipeline, probe, attempt, resume.segment).catch(asBadInput);
    if (result.frames === 0) throw new UnrecoverableError('no frames could be decoded from the video');
    await repos.videos.markIngested(video.id, result.frames, result.segments);
    await context.updateProgress({ percent: 100, framesDecoded: result.frames, segmentsWritten: result.segments });
    log.info(
      {
        frames: result.frames,
        segments: result.segments,
        skipped: result.segmentsSkipped,
        framesThisAttempt: result.framesThisAttempt,
        framesEncodedThisAttempt: result.framesEncodedThisAttempt,
        sampling: pipeline.sampling,
      },
      'ingest finished',
    );
    return result;
  }

  /**
   * Where earlier attempts stopped: the first segment that none of them
   * queued or embedded, and the frame it starts at. Segments are written in
   * order, so those before it are done. When the video's last, shorter
   * segment is among them (an attempt killed between queueing it and
   * recording the video as ingested), nothing is left to decode, and the
   * video's frame count is theirs. A last segment that is queued no more and
   * only partly recognised (its job trimmed) is decoded again, and found done
   * when it is about to be written.
   */
  private async resumePoint(videoId: string, pipeline: PipelineConfig): Promise<ResumePoint> {
    const { segmentFrames, model } = pipeline;
    let segment = 0;
    let frame = 0;
    for (;;) {
      const done = await this.framesDone(videoId, model, segment, frame, segmentFrames);
      if (done === undefined) return { segment, frame, finished: false };
      segment += 1;
      frame += done;
      if (done < segmentFrames) return { segment, frame, finished: true };
    }
  }

  /** The result of an attempt that finds every segment done by earlier ones: it decodes nothing. */
  private decodedEarlier(videoId: string, resume: ResumePoint, log: Logger): IngestResult {
    log.info(
      { frames: resume.frame, segments: resume.segment },
      'earlier attempts queued every segment: nothing left to decode',
    );
    return {
      videoId,
      frames: resume.frame,
      segments: resume.segment,
      segmentsSkipped: resume.segment,
      framesThisAttempt: 0,
      framesEncodedThisAttempt: 0,
    };
  }

  /**
   * The frames of a segment an earlier attempt queued (its embed job's frame
   * count) or embedded (all `frameCount` of them); undefined when it did neither.
   */
  private async framesDone(
    videoId: string,
    model: string,
    segmentIndex: number,
    firstFrameIndex: number,
    frameCount: number,
  ): Promise<number | undefined> {
    const { queues, repos } = this.deps;
    const queued = await queuedSegmentFrames(queues, videoId, segmentIndex);
    if (queued !== undefined) return queued;
    const lastFrameIndex = firstFrameIndex + frameCount - 1;
    const embedded = await repos.frameEmbeddings.countInRange(videoId, model, firstFrameIndex, lastFrameIndex);
    return embedded === frameCount ? frameCount : undefined;
  }

  private async decodeIntoSegments(
    video: Video,
    pipeline: PipelineConfig,
    probe: Pick<VideoProbeResult, 'durationMs'>,
    attempt: Attempt,
    startSegment: number,
  ): Promise<IngestResult> {
    const { logger } = this.deps;
    const { context, log } = attempt;
    const { sampleFps, inputSize, segmentFrames } = pipeline;
    const { durationMs } = probe;
    let pending: SampledFrame[] = [];
    // Motion sampling: each segment starts with an encoded frame (so a segment's embed job and a resumed
    // attempt never depend on another segment), then encodes a frame only when it differs from the last encoded.
    const gate = pipeline.sampling === 'motion' ? new MotionGate(inputSize, motionSettings(pipeline)) : undefined;
    let lastEncoded = -1;
    let framesEncodedThisAttempt = 0;
    let segments = startSegment;
    let segmentsSkipped = startSegment;
    let frames = startSegment * segmentFrames;
    let framesThisAttempt = 0;
    let lastPtsMs = 0;
    let resumedAt: IngestResult['resumedAt'];

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
        const written = await this.writeSegment(video, pipeline, segmentIndex, batch, attempt);
        if (!written) segmentsSkipped += 1;
        await this.deps.repos.videos.recordIngestProgress(video.id, framesSoFar, segmentIndex + 1);
        attempt.progress = { percent, framesDecoded: framesSoFar, segmentsWritten: segmentIndex + 1 };
        await context.updateProgress(attempt.progress);
      })();
      task.catch(() => {}); // observed by the next `await writing`
      writing = task;
    };

    const onResume = (resume: DecodeResume) => {
      const { seekS, fromStart } = resume;
      resumedAt = {
        segment: startSegment,
        frame: resume.startIndex,
        ...(seekS !== undefined ? { seekS } : {}),
        ...(fromStart !== undefined ? { fromStart } : {}),
      };
      log.info({ resumedAt }, 'decoding resumes after the segments earlier attempts queued');
    };
    const hwaccel = await this.deps.hwaccel?.();
    const decoder = decodeFrames(video.sourceUri, this.deps.binaries, {
      sampleFps,
      size: inputSize,
      select: pipeline.sampling === 'keyframes' ? 'keyframes' : 'grid',
      ...(hwaccel ? { hwaccel } : {}),
      signal: context.signal,
      onLog: (line) => logger.debug({ videoId: video.id, ffmpeg: line }, 'ffmpeg'),
      startIndex: frames,
      onResume,
    });
    try {
      for await (const frame of decoder) {
        // Segment n holds frames n × segmentFrames onwards: a frame out of place would shift every later segment.
        if (frame.index !== frames) throw new Error(`the decoder gave frame ${frame.index} where ${frames} was due`);
        if (pending.length === 0) gate?.reset();
        if (!gate || gate.check(frame.rgb).keep) {
          pending.push(frame);
          lastEncoded = frame.index;
          framesEncodedThisAttempt += 1;
        } else {
          pending.push({ index: frame.index, ptsMs: frame.ptsMs, sameAs: lastEncoded });
        }
        frames += 1;
        framesThisAttempt += 1;
        lastPtsMs = frame.ptsMs;
        if (pending.length === segmentFrames) await flush();
      }
      await flush();
    } finally {
      // Never leave a write running behind a failed or interrupted attempt.
      await writing?.catch(() => {});
    }
    await writing;
    return {
      videoId: video.id,
      frames,
      segments,
      segmentsSkipped,
      framesThisAttempt,
      framesEncodedThisAttempt,
      ...(resumedAt ? { resumedAt } : {}),
    };
  }

  /** Writes one segment and queues its embed job; false when an earlier attempt already did. */
  private async writeSegment(
    video: Pick<Video, 'id' | 'priority' | 'urgent'>,
    pipeline: PipelineConfig,
    segmentIndex: number,
    frames: SampledFrame[],
    attempt: Attempt,
  ): Promise<boolean> {
    const { queues, segments, config } = this.deps;
    const { model, inputSize: size } = pipeline;
    const { id: videoId, priority, urgent } = video;
    const firstFrameIndex = frames[0]?.index ?? 0;
    if ((await this.framesDone(videoId, model, segmentIndex, firstFrameIndex, frames.length)) !== undefined)
      return false;

    // The window closed: stop before this segment (the next attempt resumes at it), so that no worker
    // slot is held through the day while this video's queued segments wait for the window too.
    const at = `segment ${segmentIndex}`;
    stopIfHeld(attempt.context, at);
    const pollMs = this.deps.backpressurePollMs ?? 250;
    while ((await segments.countPending(videoId)) >= config.ingest.maxPendingSegments) {
      await sleep(pollMs, undefined, { signal: attempt.context.signal });
      stopIfHeld(attempt.context, at);
    }

    const header = {
      videoId,
      segmentIndex,
      width: size,
      height: size,
      frames: frames.map((f) => ({
        index: f.index,
        ptsMs: f.ptsMs,
        ...(f.sameAs !== undefined ? { sameAs: f.sameAs } : {}),
      })),
    };
    const pixels = frames.flatMap((f) => (f.rgb ? [f.rgb] : []));
    await this.whenStorageHasSpace(attempt, () => segments.write(header, pixels));
    await addEmbedJob(
      queues,
      { videoId, segmentIndex, firstFrameIndex, frameCount: frames.length, model, ...(urgent ? { urgent } : {}) },
      priority ? { priority } : {},
    );
    return true;
  }

  /**
   * Runs a storage write; while it fails because the storage is full (ENOSPC,
   * EDQUOT), waits (a backoff doubling to `storageFullRetryMs.max`, cut short
   * when 4 MiB or more are freed) and tries again, for as long as it takes: a full disk is not the video's fault, so
   * no attempt is spent and the video does not fail. The wait shows in the
   * job's progress (`waiting: 'storage full: 1.2 GiB free on the storage
   * root'`) and in one log line when it starts and one when it ends. Shutdown
   * ends the wait (the job goes back to the queue).
   */
  private async whenStorageHasSpace<T>(attempt: Attempt, write: () => Promise<T>): Promise<T> {
    const { segments } = this.deps;
    const retry = this.deps.storageFullRetryMs ?? { initial: 1_000, max: 30_000 };
    let delayMs = retry.initial;
    let waitingSince: number | undefined;
    for (;;) {
      try {
        const result = await write();
        if (waitingSince !== undefined) {
          const free = await segments.freeBytes();
          attempt.log.info(
            { waitedMs: Date.now() - waitingSince, free, storage: segments.root },
            `storage has space again (${describeFree(free)}): ingest goes on`,
          );
          await attempt.context.updateProgress(attempt.progress);
        }
        return result;
      } catch (error) {
        if (!isStorageFull(error)) throw error;
        const free = await segments.freeBytes();
        const waiting = `storage full: ${describeFree(free)} on the storage root`;
        if (waitingSince === undefined) {
          waitingSince = Date.now();
          attempt.log.warn(
            { free, storage: segments.root, code: (error as NodeJS.ErrnoException).code },
            `${waiting}: ingest waits for space (no attempt is spent)`,
          );
        }
        await attempt.context.updateProgress({ ...attempt.progress, waiting });
        // Waits out the backoff, but tries again as soon as space is freed (checked every second: a statfs).
        const until = Date.now() + delayMs;
        while (Date.now() < until) {
          await sleep(Math.min(1_000, until - Date.now()), undefined, { signal: attempt.context.signal });
          stopIfHeld(attempt.context, 'a segment write (storage full)');
          const now = await segments.freeBytes();
          if (free !== undefined && now !== undefined && now > free + FREED_ENOUGH) break;
        }
        delayMs = Math.min(delayMs * 2, retry.max);
      }
    }
  }
}

/** Space freed since a write failed that is worth trying again at once for. */
const FREED_ENOUGH = 4 * 1024 * 1024;

/** "1.2 GiB free", or that the free space could not be read. */
function describeFree(bytes: number | undefined): string {
  if (bytes === undefined) return 'free space unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]} free`;
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
