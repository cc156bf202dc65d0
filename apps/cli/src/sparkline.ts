const BARS = '▁▂▃▄▅▆▇█';

/** Scores in 0..1 as a one-line bar chart, resampled (max per bucket) to at most `width` characters. */
export function sparkline(values: readonly number[], width = 80): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  let line = '';
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    const peak = Math.max(...values.slice(from, to));
    line += BARS[Math.min(BARS.length - 1, Math.max(0, Math.floor(peak * BARS.length)))];
  }
  return line;
}
