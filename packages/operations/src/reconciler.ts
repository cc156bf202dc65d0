import type { Config, Logger } from '@vad/config';
import type { Repositories, Video } from '@vad/db';
import {
  addVideoFlow,
  childFailures,
  failedForGood,
  jobIds,
  parseChildKey,
  parseJobId,
  type Queues,
  removeVideoFlow,
} from '@vad/queue';
import { fairPriority } from '@vad/schedule';

/** What the reconciler did, or would do, about one video. */
export interface ReconcileAction {
  videoId: string;
  /** The video's status when it was found. */
  status: Video['status'];
  action: 'requeue' | 'fail' | 'restore-done';
  /** Why, in words for the operator (the failed stage's own reason where there is one). */
  reason: string;
}

export interface ReconcileReport {
  /** Unfinished videos looked at (unchanged for at least the grace period). */
  checked: number;
  /** Of those, with a job still waiting, running or delayed: left alone. */
  live: number;
  actions: ReconcileAction[];
}

export interface ReconcilerDeps {
  config: Pick<Config, 'queue' | 'reconcile'>;
  repos: Pick<Repositories, 'videos'>;
  queues: Queues;
  logger: Logger;
  now?: () => number;
}

/** States in which a job is still on its way. */
const LIVE_STATES = new Set(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);
const BATCH = 500;

/**
 * Finds videos whose status is not final but that have no live job in any
 * queue — stranded when recording a failure itself failed (a database
 * outage), when a job failed for stalling too often, when a submit wrote
 * the row while Redis was down, or when the flow's parent waits on children
 * that are gone — and puts each back on its way: its flow is
 * added again (embedded segments are skipped as on any retry), at most
 * VAD_MAX_RECOVERIES times; after that, or at once when its stage failed on
 * bad input, the video fails with the stage's own reason. A rescore left
 * `aggregating` goes back to `done` with its earlier results. Only videos
 * unchanged for two lock durations are looked at, so a job between two
 * steps is never mistaken for a lost one.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async run(options: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    const { repos, config, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const graceMs = Math.max(10_000, 2 * config.queue.lockDurationMs);
    const videos = await repos.videos.listUnfinished(new Date(now - graceMs), BATCH);
    const rescoring = videos.some((v) => v.status === 'aggregating') ? await this.liveRescores() : new Set<string>();
    const report: ReconcileReport = { checked: videos.length, live: 0, actions: [] };
    for (const video of videos) {
      const action = await this.decide(video, rescoring);
      if (!action) {
        report.live += 1;
        continue;
      }
      report.actions.push(action);
      if (!options.dryRun) {
        await this.apply(video, action).catch((error: unknown) => {
          logger.warn({ err: error, videoId: video.id }, 'reconciler: could not act on the video');
        });
      }
    }
    if (report.actions.length) {
      logger.info(
        { checked: report.checked, actions: report.actions.length, dryRun: options.dryRun ?? false },
        'reconciler: videos with no live job found',
      );
    }
    return report;
  }

  /** What to do with an unfinished video; undefined when a job is still on its way. */
  private async decide(video: Video, rescoring: Set<string>): Promise<ReconcileAction | undefined> {
    const { queues, config } = this.deps;
    if (rescoring.has(video.id)) return undefined;
    const id = jobIds.aggregate(video.id);
    let state: string = await queues.aggregate.getJobState(id);
    if (state === 'waiting-children' && (await this.waitsOnLostChildren(id))) state = 'waiting on lost children';
    if (LIVE_STATES.has(state)) return undefined;
    const act = (action: ReconcileAction['action'], reason: string): ReconcileAction => ({
      videoId: video.id,
      status: video.status,
      action,
      reason,
    });
    if (state === 'completed' && video.currentRunId) {
      return act('restore-done', 'scored already; a rescore stopped without restoring the status');
    }
    let reason = state === 'unknown' ? 'no job in any queue' : `its flow is ${state}`;
    if (state === 'failed') {
      const job = await queues.aggregate.getJob(id);
      const [child] = job ? await childFailures(job, queues) : [];
      if (child) {
        reason = `${child.queue} failed: ${child.reason}`;
        if (child.unrecoverable) return act('fail', reason);
      } else if (job) {
        reason = `scoring failed: ${job.failedReason}`;
        if (failedForGood(job)) return act('fail', reason);
      }
    }
    if (video.recoveries >= config.reconcile.maxRecoveries) {
      return act('fail', `${reason} (still after ${video.recoveries} recoveries)`);
    }
    return act('requeue', reason);
  }

  private async apply(video: Video, action: ReconcileAction): Promise<void> {
    const { queues, repos, config, logger } = this.deps;
    if (action.action === 'restore-done') {
      await repos.videos.restoreDone(video.id);
    } else if (action.action === 'fail') {
      await repos.videos.markFailed(video.id, action.reason);
    } else {
      const id = jobIds.aggregate(video.id);
      // A failed or finished flow is removed whole first; BullMQ refuses while one of its jobs is locked.
      if ((await queues.aggregate.getJobState(id)) !== 'unknown') {
        if (!(await removeVideoFlow(queues, video.id))) {
          throw new Error('its old flow could not be removed (a job of it is still locked)');
        }
      }
      await repos.videos.requeueRecovered(video.id);
      await addVideoFlow(queues, config, video.id, {
        priority: video.priority ?? fairPriority(0),
        urgent: video.urgent,
      });
    }
    logger.info({ ...action }, `reconciler: ${action.action}`);
  }

  /**
   * Whether a flow's parent waits on children none of which is on its way:
   * each is gone from its queue or finished without the parent hearing of it
   * (a queue store that lost writes, e.g. Redis restarted from an
   * append-only file that missed its last second). BullMQ would keep such a
   * parent waiting for ever. A child vad cannot name counts as on its way,
   * and the parent is read again last, so that a child finishing meanwhile
   * is not taken for a lost one.
   */
  private async waitsOnLostChildren(parentId: string): Promise<boolean> {
    const { queues } = this.deps;
    const parent = await queues.aggregate.getJob(parentId);
    if (!parent) return false;
    const page = await parent.getDependencies({ unprocessed: { count: BATCH } });
    const unprocessed = page.unprocessed ?? [];
    // Only a parent whose children were all seen in one page is judged (a scan may return fewer than asked).
    if (page.nextUnprocessedCursor || unprocessed.length >= BATCH) return false;
    for (const key of unprocessed) {
      const child = parseChildKey(key);
      if (child?.job.kind !== 'ingest' && child?.job.kind !== 'embed') return false;
      const queue = child.job.kind === 'ingest' ? queues.ingest : queues.embed;
      if (LIVE_STATES.has(await queue.getJobState(child.jobId))) return false;
    }
    return (await queues.aggregate.getJobState(parentId)) === 'waiting-children';
  }

  /** Videos with a rescore job still waiting or running. */
  private async liveRescores(): Promise<Set<string>> {
    const jobs = await this.deps.queues.aggregate.getJobs(['active', 'waiting', 'prioritized', 'delayed']);
    const ids = new Set<string>();
    for (const job of jobs) {
      const parsed = parseJobId(job?.id);
      if (parsed?.kind === 'rescore') ids.add(parsed.videoId);
    }
    return ids;
  }
}
