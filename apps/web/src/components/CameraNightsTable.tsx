import type { CameraNights } from '../api/types';
import { CameraLink } from './CameraLink';

type Row = CameraNights['items'][number];

const LEVELS = 4;

const nightFormat = {
  short: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' }),
  weekday: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short' }),
  long: new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }),
};

/** A night is named by its evening's date, "YYYY-MM-DD" (a calendar date: formatted in UTC, not shifted). */
function NightHeader({ night }: { night: string }) {
  const date = new Date(`${night}T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return <th scope="col">{night}</th>;
  return (
    <th scope="col">
      <abbr title={`night of ${nightFormat.long.format(date)}`}>
        {nightFormat.weekday.format(date)}
        <br />
        {nightFormat.short.format(date)}
      </abbr>
    </th>
  );
}

function level(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.min(LEVELS, Math.ceil((count / max) * LEVELS));
}

/** "12 % of 50 reviewed", or that none was reviewed. */
export function falseAlarmText(row: Pick<Row, 'falseAlarmShare' | 'reviewed'>): string {
  if (row.falseAlarmShare === null || row.reviewed === 0) return 'none reviewed';
  return `${Math.round(row.falseAlarmShare * 100)} % of ${row.reviewed} reviewed`;
}

function NightRow({ row, nights, max }: { row: Row; nights: string[]; max: number }) {
  const trueAlarms = row.nights.reduce((sum, night) => sum + night.trueAlarms, 0);
  return (
    <tr data-testid={`nights-${row.camera}`}>
      <th scope="row">
        <CameraLink camera={row.camera} />
      </th>
      {nights.map((night, index) => {
        const cell = row.nights[index] ?? { events: 0, trueAlarms: 0, falseAlarms: 0 };
        return (
          <td
            key={night}
            className={`cell level-${level(cell.events, max)}`}
            data-testid={`night-${night}`}
            title={`${row.camera}, night of ${night}: ${cell.events} events, ${cell.trueAlarms} true alarms, ${cell.falseAlarms} false alarms`}
          >
            {cell.events}
          </td>
        );
      })}
      <td className="num" data-testid="events">
        {row.events}
      </td>
      <td className="num" data-testid="true-alarms">
        {trueAlarms}
      </td>
      <td data-testid="false-alarm-share">{falseAlarmText(row)}</td>
    </tr>
  );
}

/**
 * Events per camera per night as a heat map: rows cameras, columns nights;
 * the count is printed in every cell (the colour only repeats it).
 */
export function CameraNightsTable({ data }: { data: CameraNights }) {
  if (data.items.length === 0) return <p className="hint">No events in these nights.</p>;
  const max = Math.max(0, ...data.items.flatMap((row) => row.nights.map((night) => night.events)));
  return (
    <div className="table-scroll">
      <table className="heat-table" aria-labelledby="cameras-nights-title" data-testid="heatmap">
        <thead>
          <tr>
            <th scope="col">Camera</th>
            {data.nights.map((night) => (
              <NightHeader key={night} night={night} />
            ))}
            <th scope="col" className="num">
              Events
            </th>
            <th scope="col" className="num">
              True alarms
            </th>
            <th scope="col">False alarms</th>
          </tr>
        </thead>
        <tbody>
          {data.items.map((row) => (
            <NightRow key={row.camera} row={row} nights={data.nights} max={max} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
