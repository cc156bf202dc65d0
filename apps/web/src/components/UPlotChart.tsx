import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface UPlotChartProps {
  /** Options but width (the chart follows its container's width). */
  options: Omit<uPlot.Options, 'width'>;
  data: uPlot.AlignedData;
  /** Accessible description of what the chart shows (charts are images to screen readers). */
  label: string;
  /** Called with the x value under a click on the plot area. */
  onClickX?: (x: number) => void;
  className?: string;
}

/**
 * A uPlot chart sized to its container: created once per options object,
 * fed new data in place (no re-creation on every poll), resized with the page.
 */
export function UPlotChart({ options, data, label, onClickX, className }: UPlotChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const clickRef = useRef(onClickX);
  clickRef.current = onClickX;
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = new uPlot({ ...options, width: element.clientWidth || 600 }, dataRef.current, element);
    plot.current = chart;
    const over = chart.over;
    const click = () => {
      const left = chart.cursor.left;
      if (left === undefined || left < 0 || !clickRef.current) return;
      clickRef.current(chart.posToVal(left, 'x'));
    };
    over.addEventListener('click', click);
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: options.height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      over.removeEventListener('click', click);
      chart.destroy();
      plot.current = undefined;
    };
  }, [options]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={container} className={className ?? 'chart'} role="img" aria-label={label} />;
}

/** Colours of the theme, read from CSS variables so charts follow dark/light. */
export function themeColor(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}
