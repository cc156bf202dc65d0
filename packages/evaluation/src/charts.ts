import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import sharp from 'sharp';
import type { RunReport } from './evaluation-service.js';
import type { CurvePoints } from './metrics.js';

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

export interface CurveSeries {
  /** Legend entry, e.g. `current (AUC 0.8412)`. */
  name: string;
  points: CurvePoints;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  xName: string;
  yName: string;
  series: readonly CurveSeries[];
  /** A dashed reference line (chance), as [[x0, y0], [x1, y1]]. */
  reference?: { name: string; from: [number, number]; to: [number, number] };
  width?: number;
  height?: number;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/** A line chart as SVG, drawn by Apache ECharts' server-side renderer (no DOM, no canvas). */
export function curveChartSvg(options: ChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 640;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    const series = options.series.map((s, i) => ({
      type: 'line' as const,
      name: s.name,
      data: Array.from(s.points.x, (x, k) => [x, s.points.y[k] as number]),
      showSymbol: false,
      lineStyle: { width: 2, color: COLORS[i % COLORS.length] },
      itemStyle: { color: COLORS[i % COLORS.length] },
    }));
    if (options.reference) {
      series.push({
        type: 'line' as const,
        name: options.reference.name,
        data: [options.reference.from, options.reference.to],
        showSymbol: false,
        lineStyle: { width: 1, color: '#9ca3af', type: 'dashed' } as never,
        itemStyle: { color: '#9ca3af' },
      });
    }
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: 'DejaVu Sans, Liberation Sans, Arial, sans-serif' },
      title: { text: options.title, subtext: options.subtitle ?? '', left: 'center', top: 8 },
      legend: { bottom: 8, left: 'center', orient: 'vertical' },
      grid: { left: 72, right: 32, top: 80, bottom: 64 + 22 * series.length },
      xAxis: {
        type: 'value',
        min: 0,
        max: 1,
        name: options.xName,
        nameLocation: 'middle',
        nameGap: 28,
        splitLine: { lineStyle: { color: '#e5e7eb' } },
      },
      yAxis: {
        type: 'value',
        min: 0,
        max: 1,
        name: options.yName,
        nameLocation: 'middle',
        nameGap: 44,
        splitLine: { lineStyle: { color: '#e5e7eb' } },
      },
      series,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The chart as PNG: ECharts' SVG rasterised by sharp (librsvg). */
export async function curveChartPng(options: ChartOptions): Promise<Buffer> {
  return sharp(Buffer.from(curveChartSvg(options)))
    .png()
    .toBuffer();
}

const fixed = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(4));

/**
 * Writes `roc.png` and `pr.png` into `dir` (created if need be): frame-level
 * ROC and precision–recall curves, one line per evaluated run selection,
 * AUC and AP in the legend and title. Returns the paths written.
 */
export async function writeCurveCharts(dir: string, runs: readonly RunReport[]): Promise<{ roc: string; pr: string }> {
  await mkdir(dir, { recursive: true });
  const first = runs[0];
  const single = runs.length === 1 && first;
  const roc = await curveChartPng({
    title: single ? `ROC, frame level: AUC ${fixed(first.metrics.auc)}` : 'ROC, frame level',
    subtitle: first
      ? `${single ? `${first.label} · ` : ''}${first.counts.videos} videos, ${first.counts.frames} frames`
      : undefined,
    xName: 'False positive rate',
    yName: 'True positive rate',
    series: runs.map((r) => ({ name: `${r.label}: AUC ${fixed(r.metrics.auc)}`, points: r.curves.roc })),
    reference: { name: 'chance', from: [0, 0], to: [1, 1] },
  });
  const prevalence = first?.counts.frames ? first.counts.anomalousFrames / first.counts.frames : 0;
  const pr = await curveChartPng({
    title: single ? `Precision–recall, frame level: AP ${fixed(first.metrics.ap)}` : 'Precision–recall, frame level',
    subtitle: single
      ? `${first.label} · PR-AUC (trapezoids) ${fixed(first.metrics.prAuc)}`
      : `${runs.length} scoring configurations compared`,
    xName: 'Recall',
    yName: 'Precision',
    series: runs.map((r) => ({ name: `${r.label}: AP ${fixed(r.metrics.ap)}`, points: r.curves.pr })),
    reference: { name: `anomalous share ${fixed(prevalence)}`, from: [0, prevalence], to: [1, prevalence] },
  });
  const paths = { roc: join(dir, 'roc.png'), pr: join(dir, 'pr.png') };
  await writeFile(paths.roc, roc);
  await writeFile(paths.pr, pr);
  return paths;
}
