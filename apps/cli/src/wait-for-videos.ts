import cliProgress from 'cli-progress';
import type { CliContext } from './context.js';

const STAGES = ['queued', 'ingesting', 'embedding', 'aggregating', 'done'] as const;

export interface VideoOutcome {
  videoId: string;
  status: string;
  error: string | null;
}

/**
 * Waits until every video is done or failed, with one progress bar per video
 * (its stage, and the ingest percentage while decoding) on a terminal.
 */
export async function waitForVideos(
  ctx: CliContext,
  videoIds: readonly string[],
  labels: readonly string[],
): Promise<VideoOutcome[]> {
  const bars = new cliProgress.MultiBar(
    { format: '{bar} {stage} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const show = process.stderr.isTTY;
  const progress = videoIds.map((_, i) =>
    show ? bars.create(100, 0, { stage: 'queued', label: labels[i] ?? '' }) : undefined,
  );
  const outcomes = new Map<string, VideoOutcome>();
  while (outcomes.size < videoIds.length) {
    for (const [i, videoId] of videoIds.entries()) {
      if (outcomes.has(videoId)) continue;
      const video = await ctx.repos.videos.get(videoId);
      const status = video?.status ?? 'failed';
      const stage = Math.max(0, STAGES.indexOf(status as (typeof STAGES)[number]));
      // Stages split the bar into quarters; decoding fills its quarter as it goes.
      const decoded = video?.durationMs && status === 'ingesting' ? (video.framesDecoded * 500) / video.durationMs : 0;
      progress[i]?.update(Math.min(100, Math.round((stage + Math.min(1, decoded)) * 25)), { stage: status });
      if (status === 'done' || status === 'failed')
        outcomes.set(videoId, { videoId, status, error: video?.error ?? null });
    }
    if (outcomes.size < videoIds.length) await new Promise((r) => setTimeout(r, 250));
  }
  if (show) bars.stop();
  return videoIds.map((id) => outcomes.get(id) as VideoOutcome);
}
