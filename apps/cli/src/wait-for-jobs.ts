import type { Queue } from 'bullmq';
import cliProgress from 'cli-progress';

export interface JobOutcome {
  videoId: string;
  jobId: string;
  state: 'completed' | 'failed';
  result?: unknown;
  reason?: string;
}

/**
 * Follows queued jobs until each has completed or failed, by their state in
 * the queue (not by side effects in the database), with a progress bar per
 * job on a terminal.
 */
export async function waitForJobs(
  queue: Queue,
  jobs: readonly { videoId: string; jobId: string }[],
  everyMs = 250,
): Promise<JobOutcome[]> {
  const show = process.stderr.isTTY;
  const bars = new cliProgress.MultiBar(
    { format: '{bar} {state} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const progress = jobs.map((j) => (show ? bars.create(100, 0, { state: 'waiting', label: j.videoId }) : undefined));
  const outcomes = new Map<string, JobOutcome>();
  try {
    await follow(queue, jobs, outcomes, (i, state, percent) => progress[i]?.update(percent, { state }), everyMs);
  } finally {
    if (show) bars.stop();
  }
  return jobs.map((j) => outcomes.get(j.jobId) as JobOutcome);
}

async function follow(
  queue: Queue,
  jobs: readonly { videoId: string; jobId: string }[],
  outcomes: Map<string, JobOutcome>,
  onProgress: (index: number, state: string, percent: number) => void,
  everyMs: number,
): Promise<void> {
  while (outcomes.size < jobs.length) {
    for (const [i, { videoId, jobId }] of jobs.entries()) {
      if (outcomes.has(jobId)) continue;
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      const percent =
        typeof job?.progress === 'object' ? Number((job.progress as { percent?: number }).percent ?? 0) : 0;
      onProgress(i, state, state === 'completed' ? 100 : percent);
      if (state === 'completed') outcomes.set(jobId, { videoId, jobId, state, result: job?.returnvalue });
      else if (state === 'failed' || state === 'unknown') {
        const reason = job?.failedReason || 'no longer in the queue (removed before it could be read)';
        outcomes.set(jobId, { videoId, jobId, state: 'failed', reason });
      }
    }
    if (outcomes.size < jobs.length) await new Promise((r) => setTimeout(r, everyMs));
  }
}
