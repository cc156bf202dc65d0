import { randomUUID } from 'node:crypto';
import type { Config, Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import {
  addVideoFlow,
  jobIds,
  parseJobId,
  type QueueName,
  type Queues,
  removeVideoFlow,
  type ScoringOverrides,
} from '@vad/queue';
import { fairPriority } from '@vad/schedule';
import type { Job } from 'bullmq';

/** The request cannot be carried out in the video's present state (HTTP 409). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

export interface QueueControlDeps {
  config: Pick<Config, 'queue'>;
  queues: Queues;
  repos: Pick<Repositories, 'videos'>;
  logger: Logger;
}

const RETRY_BATCH = 1000;

/**
 * What operators do to the queues: pause and resume a stage, send failed
 * videos through again, and ask for a rescore. Acts through BullMQ, so it
 * holds for every worker on every machine.
 */
export class QueueControl {
  constructor(private readonly deps: QueueControlDeps) {}

  async pause(name: QueueName): Promise<void> {
    await this.deps.queues[name].pause();
    this.deps.logger.info({ queue: name }, 'queue paused');
  }

  async resume(name: QueueName): Promise<void> {
    await this.deps.queues[name].resume();
    this.deps.logger.info({ queue: name }, 'queue resumed');
  }

  /**
   * Sends every video with a failed job in this queue through the pipeline
   * again. A video's jobs form one flow (aggregate parent, ingest and embed
   * children) that failed as a whole, so the video is retried as a whole:
   * its old flow is removed and queued anew; ingest skips the segments that
   * were already embedded. A failed rescore is simply run again.
   */
  async retryFailed(name: QueueName): Promise<{ videos: string[]; skipped: string[]; rescores: number }> {
    const queue = this.deps.queues[name];
    const failed = (await queue.getJobs(['failed'], 0, RETRY_BATCH - 1)) as Job<{ videoId: string }>[];
    const videoIds = new Set<string>();
    let rescores = 0;
    for (const job of failed) {
      if (!job) continue;
      if (parseJobId(job.id)?.kind === 'rescore') {
        await job.retry('failed');
        rescores += 1;
      } else {
        videoIds.add(job.data.videoId);
      }
    }
    const retried: string[] = [];
    const skipped: string[] = [];
    for (const videoId of videoIds) {
      const outcome = await this.retryVideo(videoId).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, videoId }, 'could not retry the video');
        return false;
      });
      (outcome ? retried : skipped).push(videoId);
    }
    this.deps.logger.info(
      { queue: name, videos: retried.length, skipped: skipped.length, rescores },
      'failed jobs retried',
    );
    return { videos: retried, skipped, rescores };
  }

  /**
   * Queues a failed video's flow again; false when the video is gone, not
   * failed, or still has a job running (a sibling of the one that failed):
   * BullMQ removes a flow only when none of its jobs is locked, so such a
   * video is left for a later retry rather than half-removed.
   */
  async retryVideo(videoId: string): Promise<boolean> {
    const { queues, repos, config } = this.deps;
    const video = await repos.videos.get(videoId);
    if (video?.status !== 'failed') return false;
    const state = await queues.aggregate.getJobState(jobIds.aggregate(videoId));
    if (state !== 'unknown' && !(await removeVideoFlow(queues, videoId))) {
      return false;
    }
    await repos.videos.requeue(videoId);
    // Videos queued before priorities existed get the normal share, not BullMQ's "no priority" (served first).
    await addVideoFlow(queues, config, videoId, { priority: video.priority ?? fairPriority(0), urgent: video.urgent });
    return true;
  }

  /** Queues a rescore of a finished video from its stored embeddings; returns the job id. */
  async rescore(videoId: string, scoring: ScoringOverrides = {}): Promise<string> {
    const video = await this.deps.repos.videos.get(videoId);
    if (!video) throw new ConflictError(`video ${videoId} does not exist`);
    if (video.status !== 'done') {
      throw new ConflictError(`video ${videoId} is ${video.status}: only a finished video can be rescored`);
    }
    if (video.embeddingsRemovedAt) {
      throw new ConflictError(
        `the frame embeddings of video ${videoId} were removed by retention: it cannot be rescored`,
      );
    }
    const jobId = jobIds.rescore(videoId, randomUUID());
    // Asked for by a person now: not held back by the processing window.
    await this.deps.queues.aggregate.add('aggregate', { videoId, urgent: true, scoring }, { jobId, attempts: 1 });
    this.deps.logger.info({ videoId, jobId }, 'rescore queued');
    return jobId;
  }
}
