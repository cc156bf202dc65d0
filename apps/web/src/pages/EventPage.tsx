import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import type { AnomalyEvent, ReviewSummary, Scores } from '../api/types';
import { EventClipPlayer } from '../components/EventClipPlayer';
import { EventProbabilities } from '../components/EventProbabilities';
import { LoadFailed } from '../components/LoadFailed';
import { eventSpan } from '../components/ReviewTable';
import { clipAt, runThreshold } from '../components/ScoreSeries';
import { ScoreTimeline } from '../components/ScoreTimeline';
import { VerdictPanel } from '../components/VerdictPanel';
import { formatOffset, formatScore } from '../format';
import { useApi } from '../hooks';
import { useCurrentSession, useIsAdmin } from '../session';

/** How much of the video around the event the score chart shows, each side. */
const CONTEXT_MS = 3 * 60_000;

/** One event: its clip, the score curve of the surrounding minutes, the peak clip's classes, the verdict. */
export function EventPage() {
  const { id } = useParams();
  const loaded = useApi<AnomalyEvent>(id ? `/v1/events/${encodeURIComponent(id)}` : undefined);
  if (loaded.error) {
    return <LoadFailed title={`Event ${id}`} what="the event" error={loaded.error} />;
  }
  if (!loaded.data || String(loaded.data.id) !== id) return <p className="loading">Loading event…</p>;
  return <EventView key={loaded.data.id} event={loaded.data} />;
}

function EventView({ event }: { event: AnomalyEvent }) {
  const session = useCurrentSession();
  const admin = useIsAdmin();
  const [review, setReview] = useState<ReviewSummary | null>(event.review);
  const scores = useApi<Scores>(`/v1/videos/${event.videoId}/scores`, { run: event.scoringRunId });
  const video = useRef<HTMLVideoElement>(null);
  const [positionMs, setPositionMs] = useState<number | null>(null);
  const [seekNote, setSeekNote] = useState('');

  useEffect(() => {
    document.title = `Event ${event.id}: ${event.label} · vad`;
  }, [event.id, event.label]);

  const onSeek = (ms: number) => {
    const player = video.current;
    if (!player) return;
    if (ms < event.clip.fromMs || ms > event.clip.toMs) {
      setSeekNote(
        `${formatOffset(ms)} is outside this clip (${formatOffset(event.clip.fromMs)}–${formatOffset(event.clip.toMs)}); the whole video has it.`,
      );
      return;
    }
    setSeekNote('');
    player.currentTime = (ms - event.clip.fromMs) / 1000;
    void player.play().catch(() => undefined);
  };

  return (
    <article className="event-page">
      <EventHeader event={event} timeZone={session.timeZone} />
      <div className="grid-2">
        <div>
          <EventClipPlayer event={event} videoRef={video} onPosition={setPositionMs} />
          <section aria-labelledby="scores-heading">
            <h2 id="scores-heading">Anomaly score around the event</h2>
            <EventScores event={event} scores={scores} positionMs={positionMs} onSeek={onSeek} />
            <p className="hint" role="status">
              {seekNote}
              {seekNote && (
                <>
                  {' '}
                  <Link to={`/videos/${event.videoId}`}>Open the whole video</Link>
                </>
              )}
            </p>
          </section>
        </div>
        <div>
          <VerdictPanel
            eventId={event.id}
            review={review}
            admin={admin}
            timeZone={session.timeZone}
            onReview={setReview}
          />
          <section className="panel" aria-labelledby="classes-heading">
            <h2 id="classes-heading">Classes at the peak</h2>
            {scores.data ? (
              <EventProbabilities clip={clipAt(scores.data.clips, event.peakMs)} />
            ) : (
              <p className="hint">{scores.error ?? 'Loading…'}</p>
            )}
          </section>
        </div>
      </div>
    </article>
  );
}

function EventHeader({ event, timeZone }: { event: AnomalyEvent; timeZone: string }) {
  return (
    <header className="event-header">
      <h1>
        {event.label} on {event.camera ?? 'an unnamed camera'}
      </h1>
      <dl className="facts-row">
        <div>
          <dt>When</dt>
          <dd data-testid="event-when">{eventSpan(event, timeZone)}</dd>
        </div>
        <div>
          <dt>Camera</dt>
          <dd>{event.camera ?? '—'}</dd>
        </div>
        <div>
          <dt>Label</dt>
          <dd>{event.label}</dd>
        </div>
        <div>
          <dt>Peak score</dt>
          <dd data-testid="event-peak">{formatScore(event.peakScore)}</dd>
        </div>
        <div>
          <dt>In the video</dt>
          <dd>
            {formatOffset(event.startMs)}–{formatOffset(event.endMs)} of{' '}
            <Link to={`/videos/${event.videoId}`}>the whole video</Link>
          </dd>
        </div>
        <div>
          <dt>Event</dt>
          <dd>#{event.id}</dd>
        </div>
      </dl>
    </header>
  );
}

interface EventScoresProps {
  event: AnomalyEvent;
  scores: { data: Scores | undefined; error: string | undefined };
  positionMs: number | null;
  onSeek(ms: number): void;
}

/** The score curve of the minutes around the event, the event shaded, the player's position on it. */
function EventScores({ event, scores, positionMs, onSeek }: EventScoresProps) {
  const data = scores.data;
  const rangeMs = useMemo((): [number, number] => {
    const videoEnd = data?.clips.at(-1)?.endMs ?? event.endMs + CONTEXT_MS;
    return [Math.max(0, event.startMs - CONTEXT_MS), Math.min(videoEnd, event.endMs + CONTEXT_MS)];
  }, [data, event.startMs, event.endMs]);
  const highlight = useMemo(() => ({ id: event.id, startMs: event.startMs, endMs: event.endMs }), [event]);
  const events = useMemo(() => {
    const others = (data?.events ?? []).filter((e) => e.id !== event.id);
    return [...others, highlight];
  }, [data, event.id, highlight]);

  if (scores.error) return <p className="error">Could not load the scores: {scores.error}</p>;
  if (!data) return <p className="loading">Loading scores…</p>;
  return (
    <ScoreTimeline
      clips={data.clips}
      events={events}
      highlight={highlight}
      threshold={runThreshold(data.run.params)}
      cursorMs={positionMs}
      rangeMs={rangeMs}
      onSeek={onSeek}
    />
  );
}
