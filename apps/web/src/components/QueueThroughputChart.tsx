import { useMemo } from 'react';
import uPlot from 'uplot';
import type { QueueHealth } from '../api/types';
import { themeColor, UPlotChart } from './UPlotChart';

/** Colour and dash per series, so that the queues differ by more than colour. */
const LOOKS = [
  { color: ['--accent', '#6cb6ff'], dash: undefined },
  { color: ['--ok', '#7ee2a8'], dash: [8, 4] },
  { color: ['--warn', '#ffd479'], dash: [2, 3] },
] as const;

export interface QueueThroughputChartProps {
  queues: QueueHealth[];
  /** When the report was made: the last minute of the series ends there. */
  at: string;
  timeZone: string;
}

/** "22:41" of a unix time (seconds) in the zone. */
function clock(timeZone: string): (seconds: number) => string {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (seconds) => format.format(new Date(seconds * 1000));
}

function describe(queues: QueueHealth[]): string {
  const parts = queues.map((queue) => {
    const total = queue.completedPerMinute.reduce((sum, n) => sum + n, 0);
    const peak = Math.max(0, ...queue.completedPerMinute);
    return `${queue.name}: ${total} in all, at most ${peak} in a minute`;
  });
  return `Jobs completed per minute over the last hour, one line per queue. ${parts.join('; ')}.`;
}

/** Jobs completed per minute over the last hour, one line per queue, x in the cameras' time zone. */
export function QueueThroughputChart({ queues, at, timeZone }: QueueThroughputChartProps) {
  const names = queues.map((queue) => queue.name).join(',');

  // A new chart only when the queues' names or the zone change (names stands for the queues here).
  // biome-ignore lint/correctness/useExhaustiveDependencies: names stands for the queues' names
  const options = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    const axis = themeColor('--muted', '#a9b4c0');
    const grid = themeColor('--line', '#36404c');
    const hhmm = clock(timeZone);
    return {
      height: 220,
      tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      scales: {
        x: { time: true },
        y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max)] },
      },
      axes: [
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          values: (_u: uPlot, splits: number[]) => splits.map((split) => hhmm(split)),
        },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, label: 'jobs / min' },
      ],
      series: [
        { label: 'minute', value: (_u: uPlot, value: number | null) => (value === null ? '--' : hhmm(value)) },
        ...queues.map((queue, index) => {
          const look = LOOKS[index % LOOKS.length] ?? LOOKS[0];
          return {
            label: queue.name,
            stroke: themeColor(look.color[0], look.color[1]),
            width: 2,
            ...(look.dash ? { dash: [...look.dash] } : {}),
          };
        }),
      ],
    };
  }, [names, timeZone]);

  const data = useMemo<uPlot.AlignedData>(() => {
    const end = Math.floor(Date.parse(at) / 60_000) * 60;
    const length = Math.max(0, ...queues.map((queue) => queue.completedPerMinute.length));
    const xs = Array.from({ length }, (_, i) => end - (length - 1 - i) * 60);
    const ys = queues.map((queue) => {
      const values = queue.completedPerMinute;
      const offset = length - values.length;
      return xs.map((_, i) => (i < offset ? null : (values[i - offset] ?? null)));
    });
    return [xs, ...ys];
  }, [queues, at]);

  return <UPlotChart options={options} data={data} label={describe(queues)} />;
}
