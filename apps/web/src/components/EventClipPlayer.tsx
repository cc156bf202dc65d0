import { type RefObject, useState } from 'react';
import type { AnomalyEvent } from '../api/types';
import { formatOffset } from '../format';

interface EventClipPlayerProps {
  event: AnomalyEvent;
  videoRef: RefObject<HTMLVideoElement | null>;
  /** The playback position, ms into the video (clip time + clip.fromMs). */
  onPosition(ms: number): void;
}

/**
 * The event's H.264 clip (made on first request: it may take a second or
 * two), looping, muted; where the event starts and ends within it, and a
 * button to jump there.
 */
export function EventClipPlayer({ event, videoRef, onPosition }: EventClipPlayerProps) {
  const [failed, setFailed] = useState(false);
  const { clip } = event;
  const startInClip = Math.max(0, event.startMs - clip.fromMs);
  const endInClip = Math.max(startInClip, Math.min(clip.toMs, event.endMs) - clip.fromMs);
  const report = () => {
    const video = videoRef.current;
    if (video) onPosition(clip.fromMs + video.currentTime * 1000);
  };
  const jump = () => {
    const video = videoRef.current;
    if (!video) return;
    video.currentTime = startInClip / 1000;
    void video.play().catch(() => undefined);
  };
  return (
    <div className="event-player">
      {/* Surveillance footage has no sound track: muted, nothing to caption. */}
      <video
        ref={videoRef}
        data-testid="event-player"
        data-clip-from-ms={clip.fromMs}
        data-clip-to-ms={clip.toMs}
        src={clip.url}
        aria-label={`Clip of event ${event.id}: ${event.label}`}
        controls
        muted
        autoPlay
        loop
        playsInline
        preload="auto"
        onTimeUpdate={report}
        onSeeked={report}
        onLoadedMetadata={report}
        onError={() => setFailed(true)}
        onLoadedData={() => setFailed(false)}
      />
      {failed && (
        <p className="error" role="alert">
          The clip could not be loaded. <a href={clip.url}>Try the clip file</a>.
        </p>
      )}
      <p className="hint" data-testid="event-in-clip">
        The clip covers {formatOffset(clip.fromMs)}–{formatOffset(clip.toMs)} of the video; the event runs from{' '}
        {formatOffset(startInClip)} to {formatOffset(endInClip)} of the clip
        {startInClip > 0 ? ` (${Math.round(startInClip / 1000)} s in)` : ''}.{' '}
        <button type="button" onClick={jump}>
          Jump to event start
        </button>
      </p>
    </div>
  );
}
