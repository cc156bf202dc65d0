import { useEffect, useRef, useState } from 'react';
import type { RunEvent, Video } from '../api/types';
import { formatOffset } from '../format';

/** A request to play from a position (ms into the video); `n` makes each request new, also to the same place. */
export interface SeekRequest {
  ms: number;
  n: number;
}

interface ScorePlayerProps {
  video: Video;
  events: readonly RunEvent[];
  seek: SeekRequest | null;
  /** The playback position, ms into the video; null when nothing plays. */
  onPosition(ms: number | null): void;
}

/** The event whose clip covers a position: the one whose own span holds it first, else any clip's span. */
export function eventClipAt(events: readonly RunEvent[], ms: number): RunEvent | undefined {
  const covering = events.filter((e) => e.clip.fromMs <= ms && ms <= e.clip.toMs);
  return covering.find((e) => e.startMs <= ms && ms <= e.endMs) ?? covering[0];
}

/** Seek a video element once it knows its duration, and play (muted autoplay is allowed). */
function seekVideo(element: HTMLVideoElement, seconds: number): () => void {
  const apply = () => {
    element.currentTime = Math.max(0, seconds);
    void element.play().catch(() => undefined);
  };
  if (element.readyState >= 1) {
    apply();
    return () => undefined;
  }
  element.addEventListener('loadedmetadata', apply, { once: true });
  return () => element.removeEventListener('loadedmetadata', apply);
}

/**
 * The recording's player: the source itself when a browser plays it; else
 * the clip of the event that covers the requested moment, from the right offset.
 */
export function ScorePlayer({ video, events, seek, onPosition }: ScorePlayerProps) {
  if (video.playable && video.sourceUrl) {
    return <SourcePlayer url={video.sourceUrl} seek={seek} onPosition={onPosition} />;
  }
  return <ClipPlayer video={video} events={events} seek={seek} onPosition={onPosition} />;
}

function SourcePlayer({
  url,
  seek,
  onPosition,
}: {
  url: string;
  seek: SeekRequest | null;
  onPosition(ms: number): void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (!seek || !ref.current) return;
    return seekVideo(ref.current, seek.ms / 1000);
  }, [seek]);
  const report = () => {
    if (ref.current) onPosition(ref.current.currentTime * 1000);
  };
  return (
    // Surveillance footage has no sound track: muted, nothing to caption.
    <video
      ref={ref}
      data-testid="video-player"
      data-mode="source"
      src={url}
      aria-label="The whole recording"
      controls
      muted
      playsInline
      preload="metadata"
      onTimeUpdate={report}
      onSeeked={report}
    />
  );
}

function ClipPlayer({ video, events, seek, onPosition }: ScorePlayerProps) {
  const ref = useRef<HTMLVideoElement>(null);
  const [playing, setPlaying] = useState<{ event: RunEvent; offsetMs: number; n: number } | null>(null);
  const [note, setNote] = useState('');

  const eventsRef = useRef(events);
  eventsRef.current = events;

  // Only a new seek request picks a clip (new scores leave the playing one alone).
  useEffect(() => {
    if (!seek) return;
    const event = eventClipAt(eventsRef.current, seek.ms);
    if (!event) {
      setNote(`No event clip covers ${formatOffset(seek.ms)}: only the events' clips play.`);
      return;
    }
    setNote('');
    setPlaying({ event, offsetMs: seek.ms - event.clip.fromMs, n: seek.n });
  }, [seek]);

  useEffect(() => {
    if (!playing || !ref.current) return;
    return seekVideo(ref.current, playing.offsetMs / 1000);
  }, [playing]);

  const report = () => {
    if (ref.current && playing) onPosition(playing.event.clip.fromMs + ref.current.currentTime * 1000);
  };

  return (
    <div className="clip-player">
      <p className="hint" data-testid="not-playable">
        This source ({video.codec ?? 'unknown codec'}) cannot play in a browser; the events' clips can. Click the chart
        within an event, or use an event's Play button.
      </p>
      {playing && (
        // Surveillance footage has no sound track: muted, nothing to caption.
        <video
          key={playing.event.id}
          ref={ref}
          data-testid="video-player"
          data-mode="clip"
          data-event-id={playing.event.id}
          src={playing.event.clip.url}
          aria-label={`Clip of event ${playing.event.id}: ${playing.event.label}`}
          controls
          muted
          playsInline
          preload="auto"
          onTimeUpdate={report}
          onSeeked={report}
        />
      )}
      <p className="hint" role="status">
        {note}
      </p>
    </div>
  );
}
