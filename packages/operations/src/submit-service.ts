import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Config, hashPipelineConfig, type Logger, type PipelineConfig } from '@vad/config';
import type { Repositories, VideoStatus } from '@vad/db';
import { addVideoFlow, type Queues } from '@vad/queue';
import { fairPriority, URGENT_PRIORITY } from '@vad/schedule';
import { sha256File } from '@vad/storage';
import { type FfmpegBinaries, InvalidVideoError, probeVideo } from '@vad/video';

/** The file cannot be submitted; `reason` says why in words a user can act on. */
export class SubmitError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'SubmitError';
  }
}

/**
 * The video is recorded (row written, status queued) but its flow could not
 * be added: Redis is unreachable. The reconciler queues it once Redis answers.
 */
export class QueueingError extends Error {
  constructor(
    readonly videoId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `video ${videoId} is recorded but could not be queued (Redis unreachable); it is queued once Redis answers`,
      options,
    );
    this.name = 'QueueingError';
  }
}

/** BullMQ holds commands until its first connection: a submit waits at most this long for the queues. */
const QUEUEING_TIMEOUT_MS = 5000;

export interface SubmitInput {
  path: string;
  camera?: string | undefined;
  /** When the recording started; defaults to the file's modification time minus its duration. */
  recordedAt?: Date | undefined;
  /** BullMQ priority (1 = most urgent); unset = the camera's fair share (see fairPriority). */
  priority?: number | undefined;
  /** Process at once, outside the processing window too (priority 1). */
  urgent?: boolean | undefined;
}

export interface SubmitResult {
  videoId: string;
  path: string;
  /** False when the same content under the same pipeline config was submitted before. */
  created: boolean;
  status: VideoStatus;
  error: string | null;
  durationMs: number;
}

export interface SubmitHooks {
  /** Bytes hashed so far, of `total`. */
  onHashProgress?: (bytes: number, total: number) => void;
}

export interface SubmitServiceDeps {
  config: Pick<Config, 'queue'>;
  /** What videos are recorded with: the configuration's settings at the model's input size. */
  pipeline: PipelineConfig;
  repos: Pick<Repositories, 'videos' | 'cameras'>;
  queues: Queues;
  binaries: FfmpegBinaries;
  logger: Logger;
}

function describeFsError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a video file';
    default:
      return error.message;
  }
}

/**
 * Submit: check the file, hash it, record the video and queue its flow. The
 * same content under the same pipeline config is the same video: the
 * existing id is returned and nothing is queued again. Used by the CLI, the
 * HTTP API and the watch folder.
 */
export class SubmitService {
  constructor(private readonly deps: SubmitServiceDeps) {}

  async submit(input: SubmitInput, hooks: SubmitHooks = {}): Promise<SubmitResult> {
    const path = resolve(input.path);
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new SubmitError(path, describeFsError(error));
    });
    if (info.isDirectory()) throw new SubmitError(path, 'is a directory, not a video file');
    if (!info.isFile()) throw new SubmitError(path, 'is not a regular file');
    if (info.size === 0) throw new SubmitError(path, 'file is empty (0 bytes)');
    await access(path, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
      throw new SubmitError(path, describeFsError(error));
    });

    const probe = await probeVideo(path, this.deps.binaries).catch((error: unknown) => {
      if (error instanceof InvalidVideoError) throw new SubmitError(path, error.message);
      throw error;
    });

    const sha256 = await sha256File(path, (bytes) => hooks.onHashProgress?.(bytes, info.size));
    const camera = input.camera ? await this.deps.repos.cameras.ensure(input.camera) : undefined;
    const { pipeline } = this.deps;
    // Urgent first; else as asked; else the camera's fair share: its k-th waiting upload waits behind
    // the first waiting uploads of every other camera.
    const priority = input.urgent
      ? URGENT_PRIORITY
      : (input.priority ?? fairPriority(await this.deps.repos.videos.countWaiting(camera?.id ?? null), camera?.weight));
    const recordedAt = input.recordedAt ?? new Date(info.mtimeMs - probe.durationMs);

    const { video, created } = await this.deps.repos.videos.insertOrGet({
      cameraId: camera?.id ?? null,
      sourceUri: path,
      sha256,
      bytes: info.size,
      durationMs: probe.durationMs,
      fps: probe.fps,
      width: probe.width,
      height: probe.height,
      codec: probe.codec,
      recordedAt,
      model: pipeline.model,
      pipelineConfig: pipeline,
      configHash: hashPipelineConfig(pipeline),
      priority,
      urgent: input.urgent ?? false,
    });

    // A video still 'queued' may come from a submit that stopped before queueing:
    // adding its flow again is safe, as job ids are deterministic.
    if (created || video.status === 'queued') {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          addVideoFlow(this.deps.queues, this.deps.config, video.id, {
            priority: video.priority ?? priority,
            urgent: video.urgent,
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`queues not reachable in ${QUEUEING_TIMEOUT_MS} ms`)),
              QUEUEING_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (error) {
        // A flow added late after the timeout does no harm: its job ids are deterministic.
        throw new QueueingError(video.id, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    }
    this.deps.logger.info(
      { videoId: video.id, path, created, sha256, priority: video.priority, urgent: video.urgent },
      created ? 'video queued' : 'duplicate video',
    );
    return {
      videoId: video.id,
      path,
      created,
      status: video.status,
      error: video.error,
      durationMs: video.durationMs ?? probe.durationMs,
    };
  }
}
