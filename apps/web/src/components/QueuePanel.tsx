import type { QueueHealth } from '../api/types';
import { formatDateTime, formatSpan } from '../format';
import { QueueActions } from './QueueActions';
import { QueueCounts } from './QueueCounts';
import { QueueFailures } from './QueueFailures';

/** "850 ms", "12 s", "3 min". */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatSpan(ms / 1000);
}

function Stat({ name, value, className }: { name: string; value: string; className?: string }) {
  return (
    <span className="stat">
      <span className={className ? `value ${className}` : 'value'}>{value}</span>
      <span className="name">{name}</span>
    </span>
  );
}

export interface QueuePanelProps {
  queue: QueueHealth;
  timeZone: string;
  isAdmin: boolean;
  onChanged(): void;
}

/** One queue: its state, job counts, timings, workers, failures and (for admins) its controls. */
export function QueuePanel({ queue, timeZone, isAdmin, onChanged }: QueuePanelProps) {
  const { name, isPaused, throughputPerMinute: rate } = queue;
  return (
    <section className="panel queue-panel" data-testid={`queue-${name}`} aria-labelledby={`queue-title-${name}`}>
      <h2 id={`queue-title-${name}`}>
        {name}
        <span className={isPaused ? 'badge paused' : 'badge running'} data-testid="queue-state">
          {isPaused ? 'paused' : 'running'}
        </span>
      </h2>
      <QueueCounts queue={queue} />
      <div className="queue-stats">
        <Stat
          name="oldest waiting"
          value={queue.oldestWaitingMs === null ? '—' : formatSpan(queue.oldestWaitingMs / 1000)}
        />
        <Stat name="p95 processing" value={formatMs(queue.processingMs.p95)} />
        <Stat name="mean processing" value={formatMs(queue.processingMs.mean)} />
        <Stat name="workers" value={String(queue.workers)} className={queue.workers === 0 ? 'warn' : undefined} />
      </div>
      <p className="hint">
        Completed per minute: {rate.m1.toFixed(1)} (1 min), {rate.m5.toFixed(1)} (5 min), {rate.m15.toFixed(1)} (15 min)
        {queue.processingMs.samples > 0 ? `; timings of the last ${queue.processingMs.samples} jobs` : ''}.
        {queue.workers === 0 && <span className="warn"> No worker is listening on this queue.</span>}
      </p>
      {queue.held.jobs > 0 && (
        <p>
          {queue.held.jobs} {queue.held.jobs === 1 ? 'job is' : 'jobs are'} held by the processing window until{' '}
          {formatDateTime(queue.held.until, timeZone)}.
        </p>
      )}
      <QueueFailures queue={queue} />
      {isAdmin && <QueueActions queue={queue} onChanged={onChanged} />}
    </section>
  );
}
