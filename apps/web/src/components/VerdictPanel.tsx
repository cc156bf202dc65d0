import { useId, useState } from 'react';
import type { ReviewSummary, Verdict } from '../api/types';
import { formatDateTime } from '../format';
import { useKeys } from '../hooks';
import { useCurrentSession } from '../session';
import { clearVerdict, errorText, putVerdict, verdictName } from './VerdictApi';
import { VerdictBadge } from './VerdictBadge';

interface VerdictPanelProps {
  eventId: number;
  review: ReviewSummary | null;
  admin: boolean;
  timeZone: string;
  onReview(review: ReviewSummary | null): void;
}

/** The event's verdict: buttons, note and "Clear review" for admins (t / f keys too); read-only otherwise. */
export function VerdictPanel({ eventId, review, admin, timeZone, onReview }: VerdictPanelProps) {
  return (
    <section className="panel verdict-panel" aria-labelledby="verdict-heading">
      <h2 id="verdict-heading">Verdict</h2>
      {admin ? (
        <VerdictControls eventId={eventId} review={review} timeZone={timeZone} onReview={onReview} />
      ) : (
        <VerdictReadOnly review={review} timeZone={timeZone} />
      )}
    </section>
  );
}

function ReviewedBy({ review, timeZone }: { review: ReviewSummary; timeZone: string }) {
  return (
    <p className="hint">
      By {review.reviewedBy}, {formatDateTime(review.reviewedAt, timeZone)}.
    </p>
  );
}

function VerdictReadOnly({ review, timeZone }: { review: ReviewSummary | null; timeZone: string }) {
  if (!review) return <p data-testid="verdict">Not reviewed yet.</p>;
  return (
    <>
      <p data-testid="verdict">
        <VerdictBadge review={review} />
      </p>
      <ReviewedBy review={review} timeZone={timeZone} />
      {review.note && <blockquote className="note">{review.note}</blockquote>}
    </>
  );
}

function VerdictControls({
  eventId,
  review,
  timeZone,
  onReview,
}: Omit<VerdictPanelProps, 'admin'> & { review: ReviewSummary | null }) {
  const [note, setNote] = useState(review?.note ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [status, setStatus] = useState('');
  const noteId = useId();
  const session = useCurrentSession();

  const save = (verdict: Verdict) => {
    const before = review;
    setBusy(true);
    setError(undefined);
    onReview({
      verdict,
      note: note.trim() || null,
      reviewedBy: session.name,
      reviewedAt: new Date().toISOString(),
    });
    putVerdict(eventId, verdict, note).then(
      (saved) => {
        onReview(saved);
        setStatus(`Marked as ${verdictName(verdict).toLowerCase()}.`);
        setBusy(false);
      },
      (caught: unknown) => {
        onReview(before);
        setError(`Could not save the verdict: ${errorText(caught)}`);
        setBusy(false);
      },
    );
  };

  const clear = () => {
    setBusy(true);
    setError(undefined);
    clearVerdict(eventId).then(
      () => {
        onReview(null);
        setStatus('Review cleared.');
        setBusy(false);
      },
      (caught: unknown) => {
        setError(`Could not clear the review: ${errorText(caught)}`);
        setBusy(false);
      },
    );
  };

  useKeys((key, event) => {
    if (busy || (key !== 't' && key !== 'f')) return;
    event.preventDefault();
    save(key === 't' ? 'true' : 'false');
  });

  const noteChanged = (review?.note ?? '') !== note.trim();
  return (
    <>
      <div className="verdict-buttons">
        <button
          type="button"
          className="verdict-true"
          aria-pressed={review?.verdict === 'true'}
          disabled={busy}
          onClick={() => save('true')}
        >
          True alarm (t)
        </button>
        <button
          type="button"
          className="verdict-false"
          aria-pressed={review?.verdict === 'false'}
          disabled={busy}
          onClick={() => save('false')}
        >
          False alarm (f)
        </button>
      </div>
      <p data-testid="verdict">
        <VerdictBadge review={review} />
      </p>
      {review && <ReviewedBy review={review} timeZone={timeZone} />}
      <label htmlFor={noteId} className="field">
        Note
      </label>
      <textarea
        id={noteId}
        rows={3}
        maxLength={2000}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        placeholder="What happened (optional)"
      />
      <div className="verdict-actions">
        {review && (
          <button type="button" disabled={busy || !noteChanged} onClick={() => save(review.verdict)}>
            Save note
          </button>
        )}
        <button type="button" disabled={busy || !review} onClick={clear}>
          Clear review
        </button>
      </div>
      <p className="hint" role="status">
        {status}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
