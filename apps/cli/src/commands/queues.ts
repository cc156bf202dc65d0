import type { HealthReport } from '@vad/operations';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { formatClockTime, formatDuration, formatTime, type TimeDisplay, table } from '../format.js';
import { sparkline } from '../sparkline.js';

const optionsSchema = z.object({
  watch: z.boolean().default(false),
  interval: z.coerce.number().min(0.5).max(3600).default(2),
  json: z.boolean().default(false),
});

const rate = (perMinute: number) => (perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(1));
const ms = (value: number | null) =>
  value === null ? '-' : value < 1000 ? `${value}ms` : formatDuration(value).replace(/^0m/, '');

/**
 * The health report as a terminal screen: one row per queue, a throughput chart, failures, the backlog forecast;
 * times as `display` says (default: UTC).
 */
export function renderHealth(report: HealthReport, display: TimeDisplay = { timeZone: 'UTC' }): string {
  const time = (date: Date | null | undefined) => formatTime(date, display);
  const rows = [
    [
      'queue',
      'state',
      'waiting',
      'active',
      'delayed',
      'failed',
      'done',
      'oldest wait',
      'jobs/min 1·5·15',
      'mean',
      'p95',
      'workers',
    ],
  ];
  for (const q of report.queues) {
    const { counts, throughputPerMinute: t } = q;
    rows.push([
      q.name,
      q.isPaused ? 'PAUSED' : 'running',
      String(counts.waiting + counts.prioritized),
      String(counts.active),
      String(counts.delayed),
      String(counts.failed),
      String(counts.completed),
      ms(q.oldestWaitingMs),
      `${rate(t.m1)} · ${rate(t.m5)} · ${rate(t.m15)}`,
      ms(q.processingMs.mean),
      ms(q.processingMs.p95),
      String(q.workers),
    ]);
  }
  const lines = [`vad queues — ${time(report.at)}`, '', table(rows), '', 'jobs done per minute, last hour:'];
  for (const q of report.queues) {
    // Each row on its own scale (its peak is printed): embed jobs outnumber the others by far.
    const peak = Math.max(1, ...q.completedPerMinute);
    // An idle minute is a dot, so a slow minute (a low bar) reads differently from none.
    const bars = [
      ...sparkline(
        q.completedPerMinute.map((n) => n / peak),
        q.completedPerMinute.length,
      ),
    ];
    const chart = bars.map((bar, i) => (q.completedPerMinute[i] ? bar : '·')).join('');
    lines.push(`  ${q.name.padEnd(9)} ${chart}  (peak ${Math.max(...q.completedPerMinute)}/min)`);
  }
  const failures = report.queues.flatMap((q) => q.failureReasons.slice(0, 3).map((f) => ({ queue: q.name, ...f })));
  if (failures.length) {
    lines.push('', 'most frequent failures:');
    for (const f of failures) lines.push(`  ${f.queue.padEnd(9)} ${String(f.count).padStart(4)}×  ${f.reason}`);
  }
  const f = report.forecast;
  const clock = (date: Date) => formatClockTime(date, display, report.at.getTime());
  if (f.window) {
    lines.push(
      '',
      f.isOpen
        ? `processing window ${f.window}: open, closes ${clock(f.closesAt ?? report.at)}`
        : `processing window ${f.window}: closed, opens ${clock(f.opensAt ?? report.at)}; urgent uploads run now`,
    );
    const held = report.queues.filter((q) => q.held.jobs > 0);
    if (held.length) {
      const until = held.map((q) => q.held.until?.getTime() ?? Number.POSITIVE_INFINITY);
      const first = Math.min(...until);
      lines.push(
        `  held until ${Number.isFinite(first) ? clock(new Date(first)) : 'the window opens'}: ${held
          .map((q) => `${q.name} ${q.held.jobs} job${q.held.jobs === 1 ? '' : 's'}`)
          .join(', ')}`,
      );
    }
  }
  const b = report.backlog;
  const footage = (videos: number, seconds: number) =>
    `${videos} video${videos === 1 ? '' : 's'}, ${formatDuration(seconds * 1000)} of footage`;
  lines.push('', `backlog: ${footage(b.videos, b.videoSeconds)}`);
  if (b.videos > 0) {
    const rate =
      b.videoSecondsPerSecond === null
        ? ''
        : `${b.videoSecondsPerSecond.toFixed(1)}× real time${b.perVideoSeconds >= 1 ? `, ${Math.round(b.perVideoSeconds)} s per video` : ''} (last ${b.rateWindowMinutes} min)`;
    if (!rate || b.drainSeconds === null) {
      lines.push('  no video finished recently: no drain forecast yet');
    } else if (f.held) {
      // Closed: urgent work runs now, the rest waits for the opening; one time for each.
      if (b.urgent.videos > 0) {
        lines.push(
          `  urgent, running now: ${footage(b.urgent.videos, b.urgent.videoSeconds)}${f.urgentDoneAt ? `, done at ${time(f.urgentDoneAt)}` : ''}`,
        );
      }
      if (f.held.videos > 0) {
        lines.push(
          `  held until ${clock(f.held.until)}: ${footage(f.held.videos, f.held.videoSeconds)}${f.finishAt ? `; at ${rate} done at ${time(f.finishAt)}` : ''}`,
        );
      }
    } else {
      lines.push(
        `  at ${rate} it drains in ${formatDuration(b.drainSeconds * 1000)}, at ${time(f.finishAt ?? b.drainAt)}`,
      );
    }
    if (f.warning) lines.push(`  WARNING: ${f.warning}`);
  }
  return lines.join('\n');
}

export function registerQueues(program: Command, context: () => CliContext): void {
  program
    .command('queues')
    .description('queue health: counts, oldest waiting job, throughput, processing time, workers, failures, backlog')
    .option('-w, --watch', 'refresh in place until Ctrl-C')
    .option('--interval <seconds>', 'refresh interval for --watch', '2')
    .option('--json', 'print JSON')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option --${String(issue?.path[0] ?? '')}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      const ctx = context();
      const { monitor } = ctx;
      if (options.json) {
        process.stdout.write(`${ctx.json(await monitor.report())}\n`);
        return;
      }
      if (!options.watch) {
        process.stdout.write(`${renderHealth(await monitor.report(), ctx.display)}\n`);
        return;
      }
      let previousLines = 0;
      let stop = false;
      process.once('SIGINT', () => {
        stop = true;
      });
      while (!stop) {
        const screen = `${renderHealth(await monitor.report(), ctx.display)}\n\n(refreshing every ${options.interval}s — Ctrl-C to stop)\n`;
        // Move up over the previous screen and clear it, so the table refreshes in place.
        process.stdout.write(`${previousLines ? `\x1b[${previousLines}F\x1b[0J` : ''}${screen}`);
        previousLines = screen.split('\n').length - 1;
        await new Promise((resolve) => setTimeout(resolve, options.interval * 1000));
      }
    });
}
