import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import type { Clip } from '../api/types';
import { formatOffset, formatScore } from '../format';
import { describeScores, type ScoreBand, scoreSteps } from './ScoreSeries';
import { themeColor, UPlotChart } from './UPlotChart';

export interface ScoreTimelineProps {
  clips: readonly Clip[];
  /** The events to shade. */
  events: readonly ScoreBand[];
  /** The event in focus: shaded and outlined; its span is on the container's data-band-start-ms / data-band-end-ms. */
  highlight?: ScoreBand | undefined;
  /** The run's event threshold, drawn as a dashed line. */
  threshold?: number | null | undefined;
  /** The playback position, ms into the video, drawn as a vertical line. */
  cursorMs?: number | null | undefined;
  /** The span shown, ms into the video. */
  rangeMs: readonly [number, number];
  /** Called with the position (ms into the video) clicked on the plot. */
  onSeek?: ((ms: number) => void) | undefined;
  height?: number;
  testId?: string;
}

interface DrawState {
  events: readonly ScoreBand[];
  highlight: ScoreBand | undefined;
  threshold: number | null | undefined;
  cursorMs: number | null | undefined;
}

/** Seconds between x ticks uPlot may choose from, so that every tick is a whole m:ss. */
const X_INCREMENTS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200];

/**
 * A video's anomaly score over time (x: seconds into the video, y: score 0..1
 * as steps over the clips), with the events shaded, the threshold dashed and
 * the playback position as a line. The overlay is drawn in uPlot's `draw`
 * hook and redrawn in place when it changes (no chart re-creation).
 */
export function ScoreTimeline({
  clips,
  events,
  highlight,
  threshold,
  cursorMs,
  rangeMs,
  onSeek,
  height = 200,
  testId = 'score-chart',
}: ScoreTimelineProps) {
  const plot = useRef<uPlot | undefined>(undefined);
  const drawState = useRef<DrawState>({ events, highlight, threshold, cursorMs });
  drawState.current = { events, highlight, threshold, cursorMs };
  const [from, to] = rangeMs;

  const options = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    const colors = {
      line: themeColor('--accent', '#6cb6ff'),
      band: themeColor('--band', 'rgba(255, 138, 128, 0.22)'),
      edge: themeColor('--danger', '#ff8a80'),
      threshold: themeColor('--warn', '#ffd479'),
      cursor: themeColor('--text', '#e7ebf0'),
      axis: themeColor('--muted', '#a9b4c0'),
      grid: themeColor('--line', '#36404c'),
    };
    const draw = (u: uPlot) => {
      const { ctx, bbox } = u;
      const state = drawState.current;
      const ratio = window.devicePixelRatio || 1;
      const xAt = (ms: number) => u.valToPos(ms / 1000, 'x', true);
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      ctx.fillStyle = colors.band;
      for (const band of state.events) {
        if (state.highlight && band.startMs === state.highlight.startMs && band.endMs === state.highlight.endMs)
          continue;
        const x0 = xAt(band.startMs);
        ctx.fillRect(x0, bbox.top, Math.max(ratio, xAt(band.endMs) - x0), bbox.height);
      }
      if (state.highlight) {
        const x0 = xAt(state.highlight.startMs);
        const x1 = xAt(state.highlight.endMs);
        // Filled twice: darker than the other events, and outlined.
        ctx.fillRect(x0, bbox.top, Math.max(ratio, x1 - x0), bbox.height);
        ctx.fillRect(x0, bbox.top, Math.max(ratio, x1 - x0), bbox.height);
        ctx.fillStyle = colors.edge;
        ctx.fillRect(x0, bbox.top, ratio, bbox.height);
        ctx.fillRect(x1 - ratio, bbox.top, ratio, bbox.height);
      }
      if (typeof state.threshold === 'number') {
        const y = u.valToPos(state.threshold, 'y', true);
        ctx.strokeStyle = colors.threshold;
        ctx.lineWidth = ratio * 1.5;
        ctx.setLineDash([6 * ratio, 4 * ratio]);
        ctx.beginPath();
        ctx.moveTo(bbox.left, y);
        ctx.lineTo(bbox.left + bbox.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      if (typeof state.cursorMs === 'number') {
        const x = xAt(state.cursorMs);
        ctx.fillStyle = colors.cursor;
        ctx.fillRect(x - ratio, bbox.top, 2 * ratio, bbox.height);
      }
      ctx.restore();
    };
    const steps = uPlot.paths.stepped?.({ align: 1 });
    return {
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false, setScale: false } },
      scales: {
        x: { time: false, range: [from / 1000, Math.max(to, from + 1000) / 1000] },
        y: { range: [0, 1] },
      },
      axes: [
        {
          stroke: colors.axis,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { stroke: colors.grid, width: 1 },
          incrs: X_INCREMENTS,
          values: (_u: uPlot, splits: number[]) => splits.map((s) => formatOffset(s * 1000)),
        },
        {
          stroke: colors.axis,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { stroke: colors.grid, width: 1 },
          size: 44,
          incrs: [0.1, 0.2, 0.5, 1],
          values: (_u: uPlot, splits: number[]) => splits.map((s) => s.toFixed(1)),
        },
      ],
      series: [
        {},
        {
          label: 'Anomaly score',
          stroke: colors.line,
          width: 2,
          spanGaps: false,
          points: { show: false },
          ...(steps ? { paths: steps } : {}),
        },
      ],
      hooks: {
        init: [
          (u: uPlot) => {
            plot.current = u;
          },
        ],
        draw: [draw],
        destroy: [
          (u: uPlot) => {
            if (plot.current === u) plot.current = undefined;
          },
        ],
      },
    };
  }, [from, to, height]);

  const data = useMemo(() => scoreSteps(clips, [from, to]), [clips, from, to]);

  // The overlay changed: draw again with the cached paths.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the draw hook reads them from drawState
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [events, highlight, threshold, cursorMs]);

  const label = describeScores(rangeMs, events, threshold);
  return (
    <figure className="score-timeline">
      <div
        data-testid={testId}
        data-band-start-ms={highlight?.startMs}
        data-band-end-ms={highlight?.endMs}
        data-event-count={events.length}
        data-cursor-ms={typeof cursorMs === 'number' ? Math.round(cursorMs) : undefined}
        className={onSeek ? 'seekable' : undefined}
      >
        <UPlotChart
          options={options}
          data={data}
          label={label}
          onClickX={onSeek ? (x) => onSeek(Math.max(0, x * 1000)) : undefined}
        />
      </div>
      <figcaption className="hint score-legend">
        Line: anomaly score (0 to 1). Shaded: events
        {highlight ? ' (this event outlined)' : ''}.
        {typeof threshold === 'number' ? ` Dashed: threshold ${formatScore(threshold)}.` : ''}
        {cursorMs !== undefined ? ' Vertical line: playback position.' : ''}
        {onSeek ? ' Click the chart to play from that moment.' : ''}
      </figcaption>
    </figure>
  );
}
