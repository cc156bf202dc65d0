import type { Config, Logger } from '@vad/config';
import { createDatabase, createRepositories, type DatabaseHandle, type Repositories } from '@vad/db';
import { QueueControl, QueueMonitor, Reconciler, SubmitService } from '@vad/operations';
import { createQueues, type QueueConnection, type Queues, queueConnectionOf } from '@vad/queue';
import { processingWindow } from '@vad/schedule';
import { resolveFfmpegBinaries } from '@vad/video';
import { pipelineConfigOf } from './model.js';

export interface ProducerOptions {
  /** Database pool size. */
  poolSize: number;
  /** Shown in pg_stat_activity, e.g. vad-cli. */
  applicationName: string;
}

/**
 * The producer side of vad, for the CLI and the HTTP API: repositories,
 * queues and the operations services, each built on first use and closed
 * once, so a command that needs only PostgreSQL never connects to the queues.
 * Its queue connection fails fast (a person is waiting) instead of queueing
 * commands through an outage; errors are logged at most every 30 s.
 */
export class ProducerContext {
  private database?: DatabaseHandle;
  private repositories?: Repositories;
  private connection?: QueueConnection;
  private queueSet?: Queues;
  private submitService?: SubmitService;
  private controlService?: QueueControl;
  private monitorService?: QueueMonitor;
  private reconcilerService?: Reconciler;
  private lastQueueError = 0;
  private closed = false;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    private readonly options: ProducerOptions,
  ) {}

  get db(): DatabaseHandle {
    this.database ??= createDatabase(this.config.database.url, {
      max: this.options.poolSize,
      applicationName: this.options.applicationName,
    });
    return this.database;
  }

  get repos(): Repositories {
    this.repositories ??= createRepositories(this.db.db);
    return this.repositories;
  }

  /** The queue backend's connection (Redis, or the postgres pool of the queue schema). */
  get queueConnection(): QueueConnection {
    if (!this.connection) {
      const connection = queueConnectionOf(this.config, 'producer', { name: this.options.applicationName });
      connection.on('error', (error) => this.onQueueError(error));
      this.connection = connection;
    }
    return this.connection;
  }

  get queues(): Queues {
    this.queueSet ??= createQueues(this.config, this.queueConnection, (error) => this.onQueueError(error));
    return this.queueSet;
  }

  get submit(): SubmitService {
    this.submitService ??= new SubmitService({
      config: this.config,
      pipeline: pipelineConfigOf(this.config),
      repos: this.repos,
      queues: this.queues,
      binaries: resolveFfmpegBinaries(this.config.ffmpeg),
      logger: this.logger,
    });
    return this.submitService;
  }

  get control(): QueueControl {
    this.controlService ??= new QueueControl({
      config: this.config,
      queues: this.queues,
      repos: this.repos,
      logger: this.logger,
    });
    return this.controlService;
  }

  get monitor(): QueueMonitor {
    this.monitorService ??= new QueueMonitor({
      queues: this.queues,
      repos: this.repos,
      window: processingWindow(this.config),
    });
    return this.monitorService;
  }

  get reconciler(): Reconciler {
    this.reconcilerService ??= new Reconciler({
      config: this.config,
      repos: this.repos,
      queues: this.queues,
      logger: this.logger,
    });
    return this.reconcilerService;
  }

  /**
   * Closes what was opened, the queues before PostgreSQL. Queues are closed only
   * once their connection is ready (at most 3 s): BullMQ's close of a queue
   * whose shared connection is still being set up drops its error listeners
   * while the set-up can still fail, which would crash the process after a
   * command that never needed Redis (e.g. a submit whose files were all
   * rejected). Otherwise the connection is simply dropped.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.queueSet && this.connection && (await ready(this.connection, 3000))) {
        const closing = this.queueSet.close();
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      }
    } finally {
      await this.connection?.close();
      await this.database?.close();
    }
  }

  private onQueueError(error: Error | undefined): void {
    if (Date.now() - this.lastQueueError < 30_000) return;
    this.lastQueueError = Date.now();
    this.logger.warn({ err: error, backend: this.connection?.backend }, 'queue connection error');
  }
}

/** Whether the connection is (or becomes, within `withinMs`) ready for commands. */
async function ready(connection: QueueConnection, withinMs: number): Promise<boolean> {
  if (connection.status === 'ready') return true;
  if (connection.status === 'end' || connection.status === 'close') return false;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), withinMs);
    const onReady = () => done(true);
    const onEnd = () => done(false);
    function done(value: boolean) {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      resolve(value);
    }
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
}
