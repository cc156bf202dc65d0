import type { RecentThroughput, Repositories } from '@vad/db';
import { QUEUE_NAMES, type QueueName, type Queues } from '@vad/queue';
import type { ProcessingWindow } from '@vad/schedule';
import type { Job } from 'bullmq';

/** Job counts of one queue by state (BullMQ's own names, `waiting-children` as `waitingChildren`). */
export interface JobCounts {
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  waitingChildren: number;
}

export interface QueueHealth {
  name: QueueName;
  /** Paused queues hand no new jobs to workers. */
  isPaused: boolean;
  counts: JobCounts;
  /**
   * Age of the oldest job waiting for a worker, null when none waits: exact
   * for jobs without priority; among prioritized jobs, the oldest of the
   * hundred next in line.
   */
  oldestWaitingMs: number | null;
  /**
   * Completed jobs per minute over the last 1, 5 and 15 minutes (BullMQ's
   * per-minute metrics: the minute under way plus the full minutes before it,
   * divided by the time they span).
   */
  throughputPerMinute: { m1: number; m5: number; m15: number };
  /** Jobs completed in each of the last 60 minutes, oldest first (the last entry is the minute under way). */
  completedPerMinute: number[];
  /** Processing time (processed → finished) of the most recent completed jobs. */
  processingMs: { samples: number; mean: number | null; p95: number | null };
  /** Worker connections listening on the queue. */
  workers: number;
  /** The most frequent reasons among kept failed jobs, most frequent first. */
  failureReasons: { reason: string; count: number }[];
  /** Delayed jobs held by the processing window while it is closed, and when it releases them. */
  held: { jobs: number; until: Date | null };
}

export interface Backlog {
  /** Videos submitted and not yet done or failed. */
  videos: number;
  /** Their total duration, in seconds of video. */
  videoSeconds: number;
  /** Of those, the urgent ones: they run at once, also while the window is closed. */
  urgent: { videos: number; videoSeconds: number };
  /** Seconds of video finished per second of wall time recently; null when nothing finished lately. */
  videoSecondsPerSecond: number | null;
  /**
   * Wall time a video costs beyond its footage (probing, starting its jobs,
   * scoring), from the recent videos' processing times against their
   * durations; 0 when that cannot be told apart (all of one length). A burst
   * of short uploads drains at a lower footage rate than long recordings.
   */
  perVideoSeconds: number;
  /** Wall seconds per second of footage beyond that; null when nothing finished lately. */
  secondsPerVideoSecond: number | null;
  /** The window the rate was measured over. */
  rateWindowMinutes: number;
  /** Time to drain the backlog at that rate; null when unknown (no recent rate) or nothing to drain. */
  drainSeconds: number | null;
  drainAt: Date | null;
}

export interface WindowForecast {
  /** The configured window, e.g. "22:00-06:00 Europe/Berlin"; null when work runs at any time. */
  window: string | null;
  isOpen: boolean;
  /** The window in effect, or the next one when it is closed. */
  opensAt: Date | null;
  closesAt: Date | null;
  /** While the window is closed: the videos it holds (all but the urgent ones), released when it opens. */
  held: { videos: number; videoSeconds: number; until: Date } | null;
  /** While the window is closed: when the urgent videos, which run now, will be done; null when none or unknown. */
  urgentDoneAt: Date | null;
  /** When the backlog will be done: drain time counted from now, or from when the window opens. */
  finishAt: Date | null;
  /** Whether that is before the window closes; null without a window or a rate. */
  finishesInWindow: boolean | null;
  /** Said when the backlog will not be done before the window closes. */
  warning: string | null;
}

export interface HealthReport {
  at: Date;
  queues: QueueHealth[];
  backlog: Backlog;
  forecast: WindowForecast;
}

export interface QueueMonitorDeps {
  queues: Queues;
  repos: Pick<Repositories, 'videos'>;
  /** The processing window, when one is configured. */
  window?: ProcessingWindow | undefined;
  now?: () => number;
}

/** A span for a sentence: "40 s", "25 min", "6.5 h". */
export function spanText(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Wall seconds to process `videos` videos of `videoSeconds` footage at the backlog's recent rate; null when unknown. */
export function drainTime(backlog: Backlog, videos: number, videoSeconds: number): number | null {
  if (videos === 0) return 0;
  if (backlog.secondsPerVideoSecond === null) return null;
  return videos * backlog.perVideoSeconds + videoSeconds * backlog.secondsPerVideoSecond;
}

/**
 * When the backlog will be done given the window, and a warning when that is
 * after the window closes. While the window is closed, urgent videos run now
 * and the rest is held until it opens: each gets its own time.
 */
export function forecastWindow(backlog: Backlog, window: ProcessingWindow | undefined, now: Date): WindowForecast {
  const drainMs = backlog.drainSeconds === null ? null : backlog.drainSeconds * 1000;
  if (!window) {
    return {
      window: null,
      isOpen: true,
      opensAt: null,
      closesAt: null,
      held: null,
      urgentDoneAt: null,
      finishAt: drainMs === null ? null : new Date(now.getTime() + drainMs),
      finishesInWindow: null,
      warning: null,
    };
  }
  const current = window.current(now);
  const span = current ?? window.next(now);
  const nowMs = now.getTime();
  let held: WindowForecast['held'] = null;
  let urgentDoneAt: Date | null = null;
  let startMs = nowMs;
  let workSeconds = backlog.drainSeconds;
  if (!current) {
    const heldVideos = backlog.videos - backlog.urgent.videos;
    const heldSeconds = backlog.videoSeconds - backlog.urgent.videoSeconds;
    held = { videos: heldVideos, videoSeconds: heldSeconds, until: span.opensAt };
    const urgentSeconds = drainTime(backlog, backlog.urgent.videos, backlog.urgent.videoSeconds);
    if (backlog.urgent.videos > 0 && urgentSeconds !== null) urgentDoneAt = new Date(nowMs + urgentSeconds * 1000);
    // Held work starts when the window opens, or when the urgent work is done if that is later.
    startMs = Math.max(span.opensAt.getTime(), urgentDoneAt?.getTime() ?? 0);
    workSeconds = heldVideos > 0 ? drainTime(backlog, heldVideos, heldSeconds) : null;
  }
  const finishAt = workSeconds === null ? null : new Date(startMs + workSeconds * 1000);
  const finishesInWindow = finishAt === null || backlog.videos === 0 ? null : finishAt <= span.closesAt;
  const available = Math.max(0, (span.closesAt.getTime() - startMs) / 1000);
  return {
    window: window.toString(),
    isOpen: current !== undefined,
    opensAt: span.opensAt,
    closesAt: span.closesAt,
    held,
    urgentDoneAt,
    finishAt,
    finishesInWindow,
    warning:
      finishesInWindow === false && workSeconds !== null
        ? `the backlog needs ${spanText(workSeconds)} at the recent rate but the window has ${spanText(available)}: it will not be done before the window closes`
        : null,
  };
}

/**
 * The recent rate as a drain model: each video costs `perVideoSeconds` plus
 * `secondsPerVideoSecond` per second of its footage, in wall time with the
 * workers as they ran (the fitted per-video times over the parallelism seen).
 * Without a usable fit (one length only, or a line through a negative
 * overhead) every second of footage costs the same: busy time over footage.
 */
export function drainModel(recent: RecentThroughput): Pick<Backlog, 'perVideoSeconds' | 'secondsPerVideoSecond'> {
  if (recent.videos === 0 || recent.busyMs <= 0 || recent.durationMs <= 0) {
    return { perVideoSeconds: 0, secondsPerVideoSecond: null };
  }
  const plain = { perVideoSeconds: 0, secondsPerVideoSecond: recent.busyMs / recent.durationMs };
  const { fit } = recent;
  if (!fit || fit.overheadMs < 0 || fit.msPerVideoMs <= 0 || recent.elapsedMs <= 0) return plain;
  // Videos processed side by side, on average over the busy time.
  const parallel = Math.max(1, recent.elapsedMs / recent.busyMs);
  return { perVideoSeconds: fit.overheadMs / 1000 / parallel, secondsPerVideoSecond: fit.msPerVideoMs / parallel };
}

const RECENT_JOBS = 100;
const HISTORY_MINUTES = 60;
const FAILED_SAMPLE = 500;
const RATE_WINDOWS_MINUTES = [15, 60, 24 * 60];

/** p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/**
 * Completed jobs in the last `minutes`, from BullMQ's per-minute metrics:
 * `data[i]` counts the minute `i + 1` minutes before the last recorded one
 * (`prevTS`), and `count − prevCount` the jobs since then, not yet in `data`.
 */
export function completedInWindow(
  metrics: { meta: { count: number; prevTS: number; prevCount: number }; data: number[] },
  minutes: number,
  nowMs: number,
): number {
  const { count, prevTS, prevCount } = metrics.meta;
  if (!prevTS) return count;
  const sincePrev = Math.floor(nowMs / 60_000) - Math.floor(prevTS / 60_000);
  if (sincePrev >= minutes) return 0;
  let total = count - prevCount;
  for (let i = 0; i < minutes - sincePrev - 1 && i < metrics.data.length; i++) total += metrics.data[i] ?? 0;
  return total;
}

/**
 * Jobs per minute over about the last `minutes`: the minute under way and
 * the `minutes` full minutes before it, over the time they span, so the rate
 * does not drop to zero each time a new minute starts.
 */
export function ratePerMinute(
  metrics: { meta: { count: number; prevTS: number; prevCount: number }; data: number[] },
  minutes: number,
  nowMs: number,
): number {
  const elapsed = (nowMs % 60_000) / 60_000;
  return completedInWindow(metrics, minutes + 1, nowMs) / (minutes + elapsed);
}

/**
 * Completions in each of the last `minutes` minutes, oldest first, aligned to
 * now. BullMQ's `data[i]` counts the minute `i + 1` before the last recorded
 * one (`prevTS`); `count − prevCount` are the jobs from that minute on.
 */
export function completedHistory(
  metrics: { meta: { count: number; prevTS: number; prevCount: number }; data: number[] },
  minutes: number,
  nowMs: number,
): number[] {
  const history = new Array<number>(minutes).fill(0);
  const { count, prevTS, prevCount } = metrics.meta;
  if (!prevTS) {
    history[minutes - 1] = count;
    return history;
  }
  const prevSlot = minutes - 1 - (Math.floor(nowMs / 60_000) - Math.floor(prevTS / 60_000));
  if (prevSlot >= 0) history[prevSlot] = count - prevCount;
  for (let i = 0; i < metrics.data.length && prevSlot - 1 - i >= 0; i++) {
    history[prevSlot - 1 - i] = metrics.data[i] ?? 0;
  }
  return history;
}

/** Groups failure reasons by their first line. */
export function topFailureReasons(reasons: readonly (string | undefined)[], top = 5) {
  const counts = new Map<string, number>();
  for (const reason of reasons) {
    const key = (reason ?? 'unknown').split('\n')[0]?.slice(0, 300) ?? 'unknown';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, top);
}

/**
 * Queue health as operators want it in the morning (and at night): counts,
 * age of the oldest waiting job, throughput, processing time, workers,
 * failure reasons, and the backlog in video time with its drain forecast.
 * Everything is read from Redis and Postgres, so any API or CLI process on
 * any machine reports the same.
 */
export class QueueMonitor {
  private readonly now: () => number;

  constructor(private readonly deps: QueueMonitorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async report(): Promise<HealthReport> {
    const [queues, backlog] = await Promise.all([
      Promise.all(QUEUE_NAMES.map((name) => this.queueHealth(name))),
      this.backlog(),
    ]);
    const at = new Date(this.now());
    return { at, queues, backlog, forecast: forecastWindow(backlog, this.deps.window, at) };
  }

  async queueHealth(name: QueueName): Promise<QueueHealth> {
    const queue = this.deps.queues[name];
    const nowMs = this.now();
    const [raw, isPaused, metrics, recent, failed, workers, oldestWait, prioritized] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children'),
      queue.isPaused(),
      this.deps.queues.connection.metrics(queue, 'completed', 0, HISTORY_MINUTES - 1),
      queue.getJobs(['completed'], 0, RECENT_JOBS - 1) as Promise<Job[]>,
      queue.getJobs(['failed'], 0, FAILED_SAMPLE - 1) as Promise<Job[]>,
      queue.getWorkersCount(),
      queue.getJobs(['wait'], 0, 0, true) as Promise<Job[]>,
      queue.getJobs(['prioritized'], 0, 99, true) as Promise<Job[]>,
    ]);
    const durations = recent
      .filter((job) => job?.processedOn && job.finishedOn)
      .map((job) => (job.finishedOn ?? 0) - (job.processedOn ?? 0))
      .sort((a, b) => a - b);
    const mean = durations.length ? durations.reduce((sum, d) => sum + d, 0) / durations.length : null;
    const oldest = Math.min(...[...oldestWait, ...prioritized].filter(Boolean).map((job) => job.timestamp));
    const held = await this.heldJobs(name, nowMs);
    return {
      name,
      isPaused,
      counts: {
        waiting: raw.waiting ?? 0,
        prioritized: raw.prioritized ?? 0,
        active: raw.active ?? 0,
        delayed: raw.delayed ?? 0,
        failed: raw.failed ?? 0,
        completed: raw.completed ?? 0,
        waitingChildren: raw['waiting-children'] ?? 0,
      },
      oldestWaitingMs: Number.isFinite(oldest) ? Math.max(0, nowMs - oldest) : null,
      throughputPerMinute: {
        m1: ratePerMinute(metrics, 1, nowMs),
        m5: ratePerMinute(metrics, 5, nowMs),
        m15: ratePerMinute(metrics, 15, nowMs),
      },
      completedPerMinute: completedHistory(metrics, HISTORY_MINUTES, nowMs),
      processingMs: {
        samples: durations.length,
        mean: mean === null ? null : Math.round(mean),
        p95: percentile(durations, 95),
      },
      workers,
      failureReasons: topFailureReasons(failed.filter(Boolean).map((job) => job.failedReason)),
      held,
    };
  }

  /**
   * Jobs held by the closed window: those delayed to its opening or later
   * (a retry's backoff or an outage wait releases them sooner).
   */
  private async heldJobs(name: QueueName, nowMs: number): Promise<QueueHealth['held']> {
    const { window } = this.deps;
    const now = new Date(nowMs);
    if (!window || window.isOpen(now)) return { jobs: 0, until: null };
    const { opensAt } = window.next(now);
    const { connection, [name]: queue } = this.deps.queues;
    const from = new Date(opensAt.getTime() - 1_000);
    const [jobs, [first]] = await Promise.all([
      connection.delayedCount(queue, from),
      connection.delayed(queue, { from, limit: 1 }),
    ]);
    return { jobs, until: jobs > 0 && first ? first.releaseAt : null };
  }

  /** Work ahead in video time, and when it will be done at the rate videos finished recently. */
  async backlog(): Promise<Backlog> {
    const { videos } = this.deps.repos;
    const ahead = await videos.backlog();
    let recent: RecentThroughput | undefined;
    let window = RATE_WINDOWS_MINUTES[0] ?? 15;
    for (const minutes of RATE_WINDOWS_MINUTES) {
      window = minutes;
      const measured = await videos.recentThroughput(minutes * 60_000);
      if (measured.videos > 0 && measured.busyMs > 0) {
        recent = measured;
        break;
      }
    }
    const model = recent ? drainModel(recent) : { perVideoSeconds: 0, secondsPerVideoSecond: null };
    const rate = recent && recent.busyMs > 0 ? recent.durationMs / recent.busyMs : null;
    const backlog: Backlog = {
      videos: ahead.videos,
      videoSeconds: Math.round(ahead.durationMs / 1000),
      urgent: { videos: ahead.urgent.videos, videoSeconds: Math.round(ahead.urgent.durationMs / 1000) },
      videoSecondsPerSecond: rate,
      ...model,
      rateWindowMinutes: window,
      drainSeconds: null,
      drainAt: null,
    };
    const drain = ahead.videos === 0 ? 0 : drainTime(backlog, ahead.videos, ahead.durationMs / 1000);
    backlog.drainSeconds = drain === null ? null : Math.round(drain);
    backlog.drainAt = drain === null ? null : new Date(this.now() + drain * 1000);
    return backlog;
  }
}
