import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, apiSend } from '../api/client';
import type { QueueHealth, QueueName } from '../api/types';

/** POST /v1/queues/:name/retry-failed answers with the videos queued again and those skipped. */
export interface RetryResult {
  queue: QueueName;
  videos: string[];
  skipped: string[];
  rescores: number;
}

const SHOWN_VIDEOS = 10;

function message(caught: unknown): string {
  return caught instanceof ApiError ? caught.message : 'the API cannot be reached';
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function RetryOutcome({ result }: { result: RetryResult }) {
  const { videos, skipped, rescores } = result;
  const again = `Queued ${plural(videos.length, 'video')} again${rescores > 0 ? ` (${plural(rescores, 'rescore')})` : ''}`;
  const rest =
    skipped.length > 0 ? `; skipped ${skipped.length}: a job still running (retry later) or no longer failed` : '';
  return (
    <div data-testid="retry-result">
      <p>{`${again}${rest}.`}</p>
      {videos.length > 0 && (
        <ul>
          {videos.slice(0, SHOWN_VIDEOS).map((id) => (
            <li key={id}>
              <Link to={`/videos/${id}`}>
                <code>{id}</code>
              </Link>
            </li>
          ))}
          {videos.length > SHOWN_VIDEOS && <li>and {videos.length - SHOWN_VIDEOS} more</li>}
        </ul>
      )}
    </div>
  );
}

interface ConfirmRetryProps {
  queue: QueueHealth;
  busy: boolean;
  onConfirm(): void;
  onCancel(): void;
}

function ConfirmRetry({ queue, busy, onConfirm, onCancel }: ConfirmRetryProps) {
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => yes.current?.focus(), []);
  return (
    <fieldset className="confirm">
      <legend className="visually-hidden">Retry failed {queue.name}</legend>
      <span>
        Send the videos of the {plural(queue.counts.failed, 'failed job')} in {queue.name} through the pipeline again?
      </span>
      <button ref={yes} type="button" className="primary" disabled={busy} onClick={onConfirm}>
        Yes, retry failed {queue.name}
      </button>
      <button type="button" disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </fieldset>
  );
}

/** Admin controls of one queue: pause or resume it, retry its failed jobs (after a confirmation). */
export function QueueActions({ queue, onChanged }: { queue: QueueHealth; onChanged(): void }) {
  const { name } = queue;
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [result, setResult] = useState<RetryResult | undefined>();
  const retryButton = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Back to the button that opened the confirmation once it closes (its buttons are gone).
  useEffect(() => {
    if (wasConfirming.current && !confirming) retryButton.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
      onChanged();
    }
  }

  const togglePause = () =>
    run(async () => {
      await apiSend<{ queue: QueueName; isPaused: boolean }>(
        'POST',
        `/v1/queues/${name}/${queue.isPaused ? 'resume' : 'pause'}`,
      );
    });

  const retry = () =>
    run(async () => {
      setResult(undefined);
      try {
        setResult(await apiSend<RetryResult>('POST', `/v1/queues/${name}/retry-failed`));
      } finally {
        setConfirming(false);
      }
    });

  return (
    <>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => void togglePause()}>
          {queue.isPaused ? `Resume ${name}` : `Pause ${name}`}
        </button>
        {!confirming && (
          <button
            ref={retryButton}
            type="button"
            disabled={busy}
            onClick={() => {
              setResult(undefined);
              setConfirming(true);
            }}
          >
            Retry failed {name}
          </button>
        )}
      </div>
      {confirming && (
        <ConfirmRetry queue={queue} busy={busy} onConfirm={() => void retry()} onCancel={() => setConfirming(false)} />
      )}
      <div role="status">{result && <RetryOutcome result={result} />}</div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </>
  );
}
