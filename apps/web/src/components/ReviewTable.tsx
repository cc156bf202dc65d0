import { memo } from 'react';
import { Link } from 'react-router';
import type { AnomalyEvent, Verdict } from '../api/types';
import { formatDateTime, formatOffset, formatScore, formatTime } from '../format';
import { verdictName } from './VerdictApi';
import { VerdictBadge } from './VerdictBadge';

interface ReviewTableProps {
  events: readonly AnomalyEvent[];
  selectedId: number | undefined;
  timeZone: string;
  /** Admins get the True / False buttons per row. */
  admin: boolean;
  onSelect(id: number): void;
  onVerdict(id: number, verdict: Verdict): void;
}

/** The events of the review page, one row each (rows memoized: moving the selection re-renders two). */
export function ReviewTable({ events, selectedId, timeZone, admin, onSelect, onVerdict }: ReviewTableProps) {
  return (
    <table className="review-table" data-testid="event-table">
      <caption className="visually-hidden">Anomaly events</caption>
      <thead>
        <tr>
          <th scope="col">Peak frame</th>
          <th scope="col">When</th>
          <th scope="col">Camera</th>
          <th scope="col">Label</th>
          <th scope="col" className="num">
            Peak score
          </th>
          <th scope="col">Verdict</th>
          {admin && <th scope="col">Mark</th>}
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <ReviewRow
            key={event.id}
            event={event}
            selected={event.id === selectedId}
            timeZone={timeZone}
            admin={admin}
            onSelect={onSelect}
            onVerdict={onVerdict}
          />
        ))}
      </tbody>
    </table>
  );
}

/** "Sun 29 Nov, 22:41:07–22:41:30", or offsets into the video when its recording time is unknown. */
export function eventSpan(
  event: Pick<AnomalyEvent, 'startAt' | 'endAt' | 'startMs' | 'endMs'>,
  timeZone: string,
): string {
  if (!event.startAt) return `${formatOffset(event.startMs)}–${formatOffset(event.endMs)} into the video`;
  return `${formatDateTime(event.startAt, timeZone)}–${formatTime(event.endAt, timeZone)}`;
}

interface ReviewRowProps {
  event: AnomalyEvent;
  selected: boolean;
  timeZone: string;
  admin: boolean;
  onSelect(id: number): void;
  onVerdict(id: number, verdict: Verdict): void;
}

const ReviewRow = memo(function ReviewRow({ event, selected, timeZone, admin, onSelect, onVerdict }: ReviewRowProps) {
  const verdict = event.review?.verdict;
  return (
    <tr
      className={selected ? 'selected' : undefined}
      data-testid="event-row"
      data-event-id={event.id}
      data-selected={selected ? 'true' : undefined}
    >
      <td>
        {event.thumbnailUrl ? (
          <img
            className="thumb"
            src={event.thumbnailUrl}
            loading="lazy"
            decoding="async"
            width={128}
            height={72}
            alt={`Peak frame of event ${event.id}: ${event.label}${event.camera ? ` on ${event.camera}` : ''}`}
          />
        ) : (
          <span className="thumb thumb-none">No image</span>
        )}
      </td>
      <td>
        <Link to={`/events/${event.id}`} onFocus={() => onSelect(event.id)}>
          {eventSpan(event, timeZone)}
        </Link>
      </td>
      <td>{event.camera ?? '—'}</td>
      <td>{event.label}</td>
      <td className="num">{formatScore(event.peakScore)}</td>
      <td>
        <VerdictBadge review={event.review} />
      </td>
      {admin && (
        <td>
          <div className="verdict-buttons">
            {(['true', 'false'] as const).map((option) => (
              <button
                key={option}
                type="button"
                className={`verdict-${option}`}
                aria-pressed={verdict === option}
                onClick={() => onVerdict(event.id, option)}
              >
                {verdictName(option)}
                <span className="visually-hidden"> (event {event.id})</span>
              </button>
            ))}
          </div>
        </td>
      )}
    </tr>
  );
});
