import type { QueueHealth } from '../api/types';

/** The job states shown per queue, as the browser tests name them (data-testid="count-<state>"). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'held'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** Jobs waiting for a worker: BullMQ keeps them in waiting, prioritized (jobs with a priority) and paused. */
export function queueCount(queue: QueueHealth, state: QueueState): number {
  const { counts } = queue;
  switch (state) {
    case 'waiting':
      return counts.waiting + counts.prioritized;
    case 'held':
      return queue.held.jobs;
    default:
      return counts[state];
  }
}

/** One row of counts per state, headed by the state names. */
export function QueueCounts({ queue }: { queue: QueueHealth }) {
  return (
    <table aria-label={`${queue.name} jobs by state`}>
      <thead>
        <tr>
          {QUEUE_STATES.map((state) => (
            <th key={state} scope="col" className="num">
              {state}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          {QUEUE_STATES.map((state) => (
            <td
              key={state}
              className={state === 'failed' && queue.counts.failed > 0 ? 'num error' : 'num'}
              data-testid={`count-${state}`}
            >
              {queueCount(queue, state)}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}
