import type { QueueHealth } from '../api/types';

/** The most frequent reasons among the failed jobs kept, as the API gives them (paths redacted). */
export function QueueFailures({ queue }: { queue: QueueHealth }) {
  const id = `failures-${queue.name}`;
  return (
    <>
      <h3 id={id}>Failures</h3>
      {queue.failureReasons.length === 0 ? (
        <p className="hint">No failed jobs kept.</p>
      ) : (
        <table aria-labelledby={id} data-testid="failures">
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col" className="num">
                Jobs
              </th>
            </tr>
          </thead>
          <tbody>
            {queue.failureReasons.map((failure) => (
              <tr key={failure.reason}>
                <td className="reason">{failure.reason}</td>
                <td className="num">{failure.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
