import { useId } from 'react';
import type { Scores } from '../api/types';
import { formatDateTime } from '../format';

interface ScoreRunsProps {
  runs: Scores['runs'];
  /** The run whose scores are shown. */
  shownId: string;
  timeZone: string;
  onShow(runId: string): void;
}

const short = (id: string) => id.slice(0, 8);

/** Which scoring run's scores are shown: a selector. */
export function ScoreRunSelect({ runs, shownId, timeZone, onShow }: ScoreRunsProps) {
  const id = useId();
  return (
    <p className="run-select">
      <label htmlFor={id}>Scores of run </label>
      <select id={id} value={shownId} onChange={(e) => onShow(e.target.value)} data-testid="run-select">
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {short(run.id)} · {run.promptSet} · {run.aggregator} · {formatDateTime(run.createdAt, timeZone)}
            {run.current ? ' (current)' : ''}
          </option>
        ))}
      </select>
    </p>
  );
}

/** The video's scoring runs, newest as the API lists them, the current and the shown one marked in words. */
export function ScoreRunTable({ runs, shownId, timeZone, onShow }: ScoreRunsProps) {
  return (
    <table data-testid="video-runs">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Prompt set</th>
          <th scope="col">Aggregator</th>
          <th scope="col">Created</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id} className={run.id === shownId ? 'selected' : undefined}>
            <td>
              <code title={run.id}>{short(run.id)}</code>
            </td>
            <td>{run.promptSet}</td>
            <td>{run.aggregator}</td>
            <td>{formatDateTime(run.createdAt, timeZone)}</td>
            <td>
              {run.current && <span className="badge">current</span>}{' '}
              {run.id === shownId ? (
                <span>shown</span>
              ) : (
                <button type="button" className="link" onClick={() => onShow(run.id)}>
                  Show<span className="visually-hidden"> run {short(run.id)}</span>
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The shown run's parameters (threshold, smoothing, …) as a list. */
export function ScoreRunParams({ params }: { params: Record<string, unknown> }) {
  const entries = Object.entries(params);
  if (entries.length === 0) return null;
  return (
    <>
      <h3>Settings of the shown run</h3>
      <dl className="facts-row run-params">
        {entries.map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}
