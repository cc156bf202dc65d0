import type { ReactNode } from 'react';
import type { QueueReport } from '../api/types';
import { formatDateTime, formatSpan } from '../format';

function yesNo(value: boolean | null): string {
  if (value === null) return '—';
  return value ? 'yes' : 'no';
}

function Fact({ term, children, testId }: { term: string; children: ReactNode; testId?: string }) {
  return (
    <>
      <dt>{term}</dt>
      <dd data-testid={testId}>{children}</dd>
    </>
  );
}

/** The backlog (videos not yet done) and when it will be, given the processing window. */
export function QueueForecast({ report, timeZone }: { report: QueueReport; timeZone: string }) {
  const { backlog, forecast } = report;
  const at = (iso: string | null) => formatDateTime(iso, timeZone);
  return (
    <section className="panel" aria-labelledby="backlog-title" data-testid="backlog">
      <h2 id="backlog-title">Backlog and processing window</h2>
      {forecast.warning && (
        <p className="warn" data-testid="forecast-warning">
          <strong>Warning:</strong> {forecast.warning}
        </p>
      )}
      <div>
        <span className="stat">
          <span className="value">{backlog.videos}</span>
          <span className="name">videos to do</span>
        </span>
        <span className="stat">
          <span className="value">{formatSpan(backlog.videoSeconds)}</span>
          <span className="name">of footage</span>
        </span>
        <span className="stat">
          <span className="value">{backlog.urgent.videos}</span>
          <span className="name">urgent ({formatSpan(backlog.urgent.videoSeconds)})</span>
        </span>
        <span className="stat">
          <span className="value">{formatSpan(backlog.drainSeconds)}</span>
          <span className="name">to drain at the recent rate</span>
        </span>
      </div>
      <dl className="facts">
        <Fact term="Processing window" testId="forecast-window">
          {forecast.window ?? 'any time (no window)'}{' '}
          <span className={forecast.isOpen ? 'badge open' : 'badge closed'}>{forecast.isOpen ? 'open' : 'closed'}</span>
        </Fact>
        {forecast.opensAt && <Fact term="Opens at">{at(forecast.opensAt)}</Fact>}
        {forecast.closesAt && <Fact term="Closes at">{at(forecast.closesAt)}</Fact>}
        {forecast.held && (
          <Fact term="Held by the window">
            {forecast.held.videos} {forecast.held.videos === 1 ? 'video' : 'videos'} (
            {formatSpan(forecast.held.videoSeconds)} of footage) until {at(forecast.held.until)}
          </Fact>
        )}
        {forecast.urgentDoneAt && <Fact term="Urgent videos done at">{at(forecast.urgentDoneAt)}</Fact>}
        <Fact term="Backlog done at" testId="forecast-finish">
          {forecast.finishAt
            ? at(forecast.finishAt)
            : backlog.videos === 0
              ? 'nothing to do'
              : 'unknown (no recent rate)'}
        </Fact>
        <Fact term="Finishes within the window" testId="forecast-in-window">
          {yesNo(forecast.finishesInWindow)}
        </Fact>
        <Fact term="Recent rate">
          {backlog.videoSecondsPerSecond === null
            ? 'nothing finished lately'
            : `${backlog.videoSecondsPerSecond.toFixed(1)} s of footage per second (last ${backlog.rateWindowMinutes} min)`}
        </Fact>
        {backlog.drainAt && <Fact term="Drained at (ignoring the window)">{at(backlog.drainAt)}</Fact>}
      </dl>
    </section>
  );
}
