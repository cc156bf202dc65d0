import { useEffect, useMemo, useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import type { RunEvent, Scores, Video } from '../api/types';
import { LoadFailed } from '../components/LoadFailed';
import { ScoreEventList } from '../components/ScoreEventList';
import { ScorePlayer, type SeekRequest } from '../components/ScorePlayer';
import { ScoreRescore } from '../components/ScoreRescore';
import { ScoreRunParams, ScoreRunSelect, ScoreRunTable } from '../components/ScoreRuns';
import { runThreshold } from '../components/ScoreSeries';
import { ScoreTimeline } from '../components/ScoreTimeline';
import { formatBytes, formatDateTime, formatOffset } from '../format';
import { useApi } from '../hooks';
import { useCurrentSession, useIsAdmin } from '../session';

interface Stage {
  state?: string;
  percent: number;
}

/** GET /v1/videos/:id: the video and its progress per stage. */
type VideoDetail = Video & { progress?: { ingest: Stage; embed: Stage; aggregate: Stage } };

const FINISHED = new Set(['done', 'failed']);

/** One recording: metadata, its whole score timeline with the events, a player, the scoring runs. */
export function VideoPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const runId = params.get('run') ?? undefined;
  const [refresh, setRefresh] = useState<number | undefined>(undefined);
  const video = useApi<VideoDetail>(`/v1/videos/${encodeURIComponent(id)}`, undefined, refresh);
  const scores = useApi<Scores>(`/v1/videos/${encodeURIComponent(id)}/scores`, { run: runId });
  const status = video.data?.status;
  const reloadScores = scores.reload;

  // Follow a video still being processed; its scores once it is done.
  useEffect(() => {
    if (!status) return;
    setRefresh(FINISHED.has(status) ? undefined : 5000);
    if (status === 'done') reloadScores();
  }, [status, reloadScores]);

  useEffect(() => {
    document.title = `Video ${id.slice(0, 8)} · vad`;
  }, [id]);

  if (video.error && !video.data) {
    return <LoadFailed title="Video" what="the video" error={video.error} />;
  }
  if (!video.data || video.data.id !== id) return <p className="loading">Loading video…</p>;

  const showRun = (run: string) => {
    const next = new URLSearchParams(params);
    next.set('run', run);
    setParams(next);
  };
  return (
    <article className="video-page">
      <h1>Recording {video.data.camera ? `of ${video.data.camera}` : id.slice(0, 8)}</h1>
      <VideoFacts video={video.data} />
      {scores.data && scores.data.videoId === id ? (
        <VideoScores video={video.data} scores={scores.data} onShowRun={showRun} />
      ) : (
        <section aria-labelledby="scores-heading">
          <h2 id="scores-heading">Anomaly score</h2>
          <p className={scores.error ? 'hint' : 'loading'}>{scores.error ?? 'Loading scores…'}</p>
        </section>
      )}
    </article>
  );
}

function VideoFacts({ video }: { video: VideoDetail }) {
  const { timeZone } = useCurrentSession();
  const progress = video.progress;
  return (
    <dl className="facts-row" data-testid="video-facts">
      <div>
        <dt>Camera</dt>
        <dd>{video.camera ?? '—'}</dd>
      </div>
      <div>
        <dt>Recorded at</dt>
        <dd>{formatDateTime(video.recordedAt, timeZone)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>{video.durationMs === null ? '—' : formatOffset(video.durationMs)}</dd>
      </div>
      <div>
        <dt>Codec</dt>
        <dd>{video.codec ?? '—'}</dd>
      </div>
      <div>
        <dt>Resolution</dt>
        <dd>
          {video.width && video.height ? `${video.width}×${video.height}` : '—'}
          {video.fps ? ` at ${Math.round(video.fps * 100) / 100} fps` : ''}
        </dd>
      </div>
      <div>
        <dt>Size</dt>
        <dd>{formatBytes(video.bytes)}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd data-testid="video-status">
          {video.status}
          {progress && !FINISHED.has(video.status)
            ? ` (ingest ${Math.round(progress.ingest.percent)} %, embed ${Math.round(progress.embed.percent)} %, aggregate ${Math.round(progress.aggregate.percent)} %)`
            : ''}
        </dd>
      </div>
      {video.error && (
        <div>
          <dt>Error</dt>
          <dd className="error">{video.error}</dd>
        </div>
      )}
      <div>
        <dt>Source</dt>
        <dd>
          <code>{video.sourceUri}</code>
        </dd>
      </div>
    </dl>
  );
}

interface VideoScoresProps {
  video: VideoDetail;
  scores: Scores;
  onShowRun(runId: string): void;
}

function VideoScores({ video, scores, onShowRun }: VideoScoresProps) {
  const { timeZone } = useCurrentSession();
  const admin = useIsAdmin();
  const [seek, setSeek] = useState<SeekRequest | null>(null);
  const [positionMs, setPositionMs] = useState<number | null>(null);
  const rangeMs = useMemo((): [number, number] => {
    const end = Math.max(video.durationMs ?? 0, scores.clips.at(-1)?.endMs ?? 0, 1000);
    return [0, end];
  }, [video.durationMs, scores.clips]);
  const play = (ms: number) => setSeek((s) => ({ ms, n: (s?.n ?? 0) + 1 }));
  const playEvent = (event: RunEvent) => play(event.startMs);

  return (
    <>
      <section aria-labelledby="scores-heading">
        <h2 id="scores-heading">Anomaly score</h2>
        <ScoreRunSelect runs={scores.runs} shownId={scores.run.id} timeZone={timeZone} onShow={onShowRun} />
        <ScoreTimeline
          clips={scores.clips}
          events={scores.events}
          threshold={runThreshold(scores.run.params)}
          cursorMs={positionMs}
          rangeMs={rangeMs}
          onSeek={play}
        />
        <ScorePlayer video={video} events={scores.events} seek={seek} onPosition={setPositionMs} />
      </section>
      <section aria-labelledby="events-heading">
        <h2 id="events-heading">Events</h2>
        <ScoreEventList events={scores.events} timeZone={timeZone} onPlay={playEvent} />
      </section>
      <section aria-labelledby="runs-heading">
        <h2 id="runs-heading">Scoring runs</h2>
        <ScoreRunTable runs={scores.runs} shownId={scores.run.id} timeZone={timeZone} onShow={onShowRun} />
        <ScoreRunParams params={scores.run.params} />
      </section>
      {admin && (
        <section className="panel">
          <ScoreRescore videoId={video.id} />
        </section>
      )}
    </>
  );
}
