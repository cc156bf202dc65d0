import type { Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import type { RetentionResult } from '@vad/operations';
import {
  MAINTENANCE_QUEUE,
  parseJobId,
  QUEUE_NAMES,
  type QueueConnection,
  type QueueName,
  type Queues,
} from '@vad/queue';
import type { EmbedResult } from '@vad/stages';
import { QueueEvents } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/** A job's return value as QueueEvents delivers it (JSON text, or already parsed); undefined if unreadable. */
function parseReturn(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** What a job returned, as sent over the event stream: older or foreign jobs may lack any field. */
type Returned<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? Partial<T[K]> : T[K] };

/**
 * Prometheus metrics of the whole pipeline, as seen from this API process:
 * job counts are read from Redis at each scrape; durations, failures,
 * frames embedded, video time processed and inference batch sizes come
 * from BullMQ's event stream, so workers on any machine are counted without
 * exposing ports of their own. Scrape one API process (each sees every event).
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly listeners: QueueEvents[] = [];
  private readonly jobDuration: Histogram<'queue' | 'outcome'>;
  private readonly failures: Counter<'queue'>;
  private readonly framesEmbedded: Counter;
  private readonly videoSeconds: Counter;
  private readonly batchFrames: Histogram;
  private readonly retentionRemoved: Counter<'kind'>;
  private readonly retentionLastRun: Gauge;

  constructor(
    private readonly queues: Queues,
    private readonly repos: Pick<Repositories, 'videos'>,
    private readonly logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'vad_api_' });
    const registers = [this.registry];
    new Gauge({
      name: 'vad_queue_jobs',
      help: 'Jobs in each queue by state',
      labelNames: ['queue', 'state'],
      registers,
      collect: async function (this: Gauge<'queue' | 'state'>) {
        const counts = await Promise.all(QUEUE_NAMES.map((name) => queues[name].getJobCounts(...JOB_STATES)));
        for (const [i, name] of QUEUE_NAMES.entries()) {
          for (const state of JOB_STATES) this.set({ queue: name, state }, counts[i]?.[state] ?? 0);
        }
      },
    });
    new Gauge({
      name: 'vad_queue_workers',
      help: 'Worker connections listening on each queue',
      labelNames: ['queue'],
      registers,
      collect: async function (this: Gauge<'queue'>) {
        const counts = await Promise.all(QUEUE_NAMES.map((name) => queues[name].getWorkersCount()));
        for (const [i, name] of QUEUE_NAMES.entries()) this.set({ queue: name }, counts[i] ?? 0);
      },
    });
    new Gauge({
      name: 'vad_backlog_video_seconds',
      help: 'Seconds of video submitted and not yet done or failed',
      registers,
      collect: async function (this: Gauge) {
        this.set((await repos.videos.backlog()).durationMs / 1000);
      },
    });
    this.jobDuration = new Histogram({
      name: 'vad_job_duration_seconds',
      help: 'Processing time of finished jobs (processed to finished), by queue and outcome',
      labelNames: ['queue', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.failures = new Counter({
      name: 'vad_job_failures_total',
      help: 'Failed job attempts by queue (retried ones included)',
      labelNames: ['queue'],
      registers,
    });
    this.framesEmbedded = new Counter({
      name: 'vad_frames_embedded_total',
      help: 'Frames encoded by embed workers',
      registers,
    });
    this.videoSeconds = new Counter({
      name: 'vad_video_seconds_processed_total',
      help: 'Seconds of video scored to the end of the pipeline',
      registers,
    });
    this.batchFrames = new Histogram({
      name: 'vad_inference_batch_frames',
      help: 'Frames per image-encoder batch, observed once per embed job that had frames in the batch',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    this.retentionRemoved = new Counter({
      name: 'vad_retention_removed_total',
      help: 'What retention runs removed: job records, embedding rows, thumbnails, videos, source files',
      labelNames: ['kind'],
      registers,
    });
    this.retentionLastRun = new Gauge({
      name: 'vad_retention_last_run_timestamp_seconds',
      help: 'When a retention run last completed (seen by this process)',
      registers,
    });
  }

  /** Starts listening to the queues' event streams (one blocking connection each). */
  async start(connection: () => QueueConnection): Promise<void> {
    for (const name of QUEUE_NAMES) {
      const { options, factory } = connection().bull;
      const events = new QueueEvents(name, options, factory);
      events.on('completed', ({ jobId, returnvalue }) => {
        void this.onCompleted(name, jobId, returnvalue).catch((error: unknown) =>
          this.logger.warn({ err: error, queue: name, jobId }, 'metrics: completed event not counted'),
        );
      });
      events.on('failed', ({ jobId }) => {
        this.failures.inc({ queue: name });
        void this.observeDuration(name, jobId, 'failed').catch(() => {});
      });
      events.on('error', (error) => this.logger.warn({ err: error, queue: name }, 'metrics: queue events error'));
      this.listeners.push(events);
    }
    const listener = connection().bull;
    const maintenance = new QueueEvents(MAINTENANCE_QUEUE, listener.options, listener.factory);
    maintenance.on('completed', ({ returnvalue }) => {
      const result = parseReturn(returnvalue) as Returned<RetentionResult> | undefined;
      if (!result || typeof result !== 'object' || result.jobsRemoved === undefined) return;
      this.retentionRemoved.inc({ kind: 'jobs' }, result.jobsRemoved);
      this.retentionRemoved.inc({ kind: 'embeddings' }, result.embeddings?.rows ?? 0);
      this.retentionRemoved.inc({ kind: 'thumbnails' }, result.thumbnailsRemoved ?? 0);
      this.retentionRemoved.inc({ kind: 'videos' }, result.videosRemoved ?? 0);
      this.retentionRemoved.inc({ kind: 'sources' }, result.sourcesRemoved ?? 0);
      this.retentionLastRun.set(Date.now() / 1000);
    });
    maintenance.on('error', (error) => this.logger.warn({ err: error }, 'metrics: maintenance events error'));
    this.listeners.push(maintenance);
    await Promise.all(this.listeners.map((events) => events.waitUntilReady()));
  }

  private async observeDuration(queue: QueueName, jobId: string, outcome: 'completed' | 'failed') {
    const job = await this.queues[queue].getJob(jobId);
    if (job?.processedOn && job.finishedOn) {
      this.jobDuration.observe({ queue, outcome }, (job.finishedOn - job.processedOn) / 1000);
    }
    return job;
  }

  private async onCompleted(queue: QueueName, jobId: string, returnvalue: unknown): Promise<void> {
    const job = await this.observeDuration(queue, jobId, 'completed');
    const result = parseReturn(returnvalue);
    if (queue === 'embed' && result && typeof result === 'object') {
      const embed = result as Returned<EmbedResult>;
      if (!embed.alreadyEmbedded && typeof embed.frames === 'number') this.framesEmbedded.inc(embed.frames);
      for (const size of embed.batchSizes ?? []) this.batchFrames.observe(size);
    }
    // A video's first scoring counts its duration; a rescore processes no new video time.
    const parsed = parseJobId(jobId);
    if (queue === 'aggregate' && parsed?.kind === 'aggregate' && job) {
      const video = await this.repos.videos.get(parsed.videoId);
      if (video?.durationMs) this.videoSeconds.inc(video.durationMs / 1000);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((events) => events.close()));
  }
}
