import { Link } from 'react-router';
import type { RunEvent } from '../api/types';
import { formatOffset, formatScore } from '../format';
import { eventSpan } from './ReviewTable';

interface ScoreEventListProps {
  events: readonly RunEvent[];
  timeZone: string;
  /** Play from the event's start (the keyboard's way to what clicking the chart does). */
  onPlay(event: RunEvent): void;
}

/** The events of a scoring run, in time order, each linked to its page. */
export function ScoreEventList({ events, timeZone, onPlay }: ScoreEventListProps) {
  if (events.length === 0) return <p className="hint">This run found no event.</p>;
  const sorted = [...events].sort((a, b) => a.startMs - b.startMs);
  return (
    <table data-testid="video-events">
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">In the video</th>
          <th scope="col">When</th>
          <th scope="col">Label</th>
          <th scope="col" className="num">
            Peak score
          </th>
          <th scope="col">Play</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((event) => (
          <tr key={event.id} data-event-id={event.id}>
            <td>
              <Link to={`/events/${event.id}`}>Event {event.id}</Link>
            </td>
            <td>
              {formatOffset(event.startMs)}–{formatOffset(event.endMs)}
            </td>
            <td>{event.startAt ? eventSpan(event, timeZone) : '—'}</td>
            <td>{event.label}</td>
            <td className="num">{formatScore(event.peakScore)}</td>
            <td>
              <button type="button" onClick={() => onPlay(event)}>
                Play<span className="visually-hidden"> event {event.id}</span>
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
