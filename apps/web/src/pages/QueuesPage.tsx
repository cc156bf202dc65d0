import { useState } from 'react';
import type { QueueReport } from '../api/types';
import { QueueForecast } from '../components/QueueForecast';
import { QueuePanel } from '../components/QueuePanel';
import { QueueThroughputChart } from '../components/QueueThroughputChart';
import { formatTime } from '../format';
import { useApi } from '../hooks';
import { useCurrentSession, useIsAdmin } from '../session';

const REFRESH_MS = 3000;

/** Queue health, live: counts, timings, failures, throughput, backlog and its forecast; admins pause, resume, retry. */
export function QueuesPage() {
  const { timeZone } = useCurrentSession();
  const isAdmin = useIsAdmin();
  const [live, setLive] = useState(true);
  const { data: report, error, reload } = useApi<QueueReport>('/v1/queues', undefined, live ? REFRESH_MS : undefined);

  return (
    <>
      <div className="page-head">
        <h1>Queues</h1>
        <span className="hint" data-testid="updated">
          {report ? `updated ${formatTime(report.at, timeZone)}` : 'loading…'}
          {live ? ` · live, every ${REFRESH_MS / 1000} s` : ' · live updates paused'}
        </span>
        <button type="button" onClick={() => setLive((on) => !on)}>
          {live ? 'Pause live updates' : 'Resume live updates'}
        </button>
        {!live && (
          <button type="button" onClick={reload}>
            Refresh now
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error">
          {report ? `Could not refresh (showing the last answer): ${error}` : error}
        </p>
      )}
      {report && <QueuesReport report={report} timeZone={timeZone} isAdmin={isAdmin} onChanged={reload} />}
    </>
  );
}

interface QueuesReportProps {
  report: QueueReport;
  timeZone: string;
  isAdmin: boolean;
  onChanged(): void;
}

function QueuesReport({ report, timeZone, isAdmin, onChanged }: QueuesReportProps) {
  return (
    <>
      <div className="queue-grid">
        {report.queues.map((queue) => (
          <QueuePanel key={queue.name} queue={queue} timeZone={timeZone} isAdmin={isAdmin} onChanged={onChanged} />
        ))}
      </div>
      <p className="hint">
        waiting: jobs waiting for a worker (with or without a priority); held: delayed jobs the closed processing window
        holds. Times in {timeZone}.
      </p>
      <section className="panel page-section" aria-labelledby="throughput-title">
        <h2 id="throughput-title">Jobs completed per minute, last hour</h2>
        <QueueThroughputChart queues={report.queues} at={report.at} timeZone={timeZone} />
      </section>
      <QueueForecast report={report} timeZone={timeZone} />
    </>
  );
}
