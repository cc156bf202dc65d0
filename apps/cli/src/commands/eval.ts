import {
  CURRENT,
  EvaluationInputError,
  type EvaluationReport,
  EvaluationService,
  GROUND_TRUTH_FORMATS,
  GroundTruthError,
  type GroundTruthFormat,
  listSome,
  type RunReport,
  readGroundTruth,
  writeCurveCharts,
} from '@vad/evaluation';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

const optionsSchema = z.object({
  annotations: z.array(z.string().min(1)).min(1),
  gtFormat: z.enum(GROUND_TRUTH_FORMATS as [GroundTruthFormat, ...GroundTruthFormat[]]).optional(),
  camera: z.string().min(1).optional(),
  configHash: z.array(z.string().min(1)).optional(),
  threshold: z.coerce.number().min(0).max(1).optional(),
  allowMissing: z.boolean().optional(),
  plot: z.string().min(1).optional(),
  format: z.enum(['table', 'json', 'csv']).default('table'),
});

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

type Row = { key: string; name: string; value: (run: RunReport) => number; digits: number };

/** The report as rows of metrics, one column per evaluated run selection. */
function rowsOf(report: EvaluationReport): Row[] {
  const t = report.threshold;
  const rows: Row[] = [
    { key: 'auc', name: 'AUC, all frames', value: (r) => r.metrics.auc, digits: 4 },
    { key: 'ap', name: 'AP (average precision)', value: (r) => r.metrics.ap, digits: 4 },
    { key: 'pr_auc', name: 'PR-AUC, trapezoids (XD-Violence code)', value: (r) => r.metrics.prAuc, digits: 4 },
    { key: 'auc_anomalous', name: 'AUC, anomalous videos only', value: (r) => r.metrics.aucAnomalous, digits: 4 },
    {
      key: 'false_alarm_rate',
      name: `false-alarm rate (normal frames >= ${t})`,
      value: (r) => r.metrics.falseAlarmRate,
      digits: 4,
    },
    {
      key: 'false_alarms_per_hour',
      name: 'false alarms per hour (normal videos)',
      value: (r) => r.metrics.falseAlarmsPerHour,
      digits: 2,
    },
    {
      key: 'event_precision',
      name: 'event precision (IoU >= 0.5)',
      value: (r) => r.metrics.events.precision,
      digits: 4,
    },
    { key: 'event_recall', name: 'event recall (IoU >= 0.5)', value: (r) => r.metrics.events.recall, digits: 4 },
    { key: 'event_f1', name: 'event F1', value: (r) => r.metrics.events.f1, digits: 4 },
  ];
  const classes = [...new Set(report.runs.flatMap((r) => r.perClass.map((c) => c.class)))].sort();
  for (const name of classes) {
    const of = (r: RunReport) => r.perClass.find((c) => c.class === name);
    const videos = of(report.runs[0] as RunReport)?.videos ?? 0;
    rows.push({
      key: `auc_class:${name}`,
      name: `AUC ${name} (${videos} video${videos === 1 ? '' : 's'} + normal)`,
      value: (r) => of(r)?.auc ?? Number.NaN,
      digits: 4,
    });
  }
  rows.push(
    { key: 'videos', name: 'videos', value: (r) => r.counts.videos, digits: 0 },
    { key: 'normal_videos', name: 'normal videos', value: (r) => r.counts.normalVideos, digits: 0 },
    { key: 'anomalous_videos', name: 'anomalous videos', value: (r) => r.counts.anomalousVideos, digits: 0 },
    { key: 'frames', name: 'frames', value: (r) => r.counts.frames, digits: 0 },
    { key: 'anomalous_frames', name: 'anomalous frames', value: (r) => r.counts.anomalousFrames, digits: 0 },
    { key: 'hours', name: 'hours', value: (r) => r.counts.hours, digits: 2 },
    { key: 'normal_hours', name: 'normal hours', value: (r) => r.counts.normalHours, digits: 2 },
    { key: 'events_predicted', name: 'events predicted', value: (r) => r.metrics.events.predicted, digits: 0 },
    { key: 'events_matched', name: 'events matched', value: (r) => r.metrics.events.truePositives, digits: 0 },
    { key: 'events_ground_truth', name: 'events in ground truth', value: (r) => r.metrics.events.actual, digits: 0 },
  );
  return rows;
}

const csvCell = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

export function registerEval(program: Command, context: () => CliContext): void {
  program
    .command('eval')
    .description(
      'frame-level evaluation of scoring runs against ground truth (UCF-Crime, XD-Violence, CSV or JSON): ' +
        'ROC-AUC, AP, AUC on anomalous videos, per-class AUC, false alarms, event precision/recall; ' +
        'reads only, changes nothing',
    )
    .option(
      '--annotations <file>',
      'ground truth; repeat to combine files (XD-Violence: annotations.txt and the test list)',
      collect,
    )
    .option('--gt-format <format>', `${GROUND_TRUTH_FORMATS.join(' | ')} (default: from the extension and content)`)
    .option('--camera <name>', "match only this camera's videos")
    .option(
      '--config-hash <hash>',
      `evaluate each video's run of this scoring config instead of its current run; repeat to compare (${CURRENT} = current runs)`,
      collect,
    )
    .option('--threshold <x>', 'alarm threshold for false alarms and events (default VAD_EVENT_THRESHOLD)')
    .option('--allow-missing', 'leave out annotated names matching no video, and videos without the run')
    .option('--plot <dir>', 'write roc.png and pr.png (frame-level curves) into this folder')
    .option('--format <format>', 'table | json | csv', 'table')
    .addHelpText(
      'after',
      '\nMatching: an annotated name (less any folder) matches a video whose file name equals it, or equals it\n' +
        'without the extension, ignoring case: Arrest001_x264 and Arrest001_x264.mp4 both match\n' +
        '/data/ucf/Arrest001_x264.mp4. Submit a data set with `vad submit DIR --camera NAME`, evaluate with --camera NAME.',
    )
    .action(async (raw: Record<string, unknown>) => {
      if (!raw.annotations) program.error('error: option --annotations: name an annotation file', { exitCode: 2 });
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const option = String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        program.error(`error: option --${option}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      const groundTruth = await readGroundTruth(options.annotations, options.gtFormat).catch((error: unknown) => {
        if (error instanceof GroundTruthError) program.error(`error: ${error.message}`, { exitCode: 2 });
        throw error;
      });
      const ctx = context();
      const threshold = options.threshold ?? ctx.config.scoring.threshold;
      const report = await new EvaluationService({ repos: ctx.repos })
        .evaluate({
          groundTruth,
          camera: options.camera,
          runs: options.configHash,
          threshold,
          allowMissing: options.allowMissing,
          eventDefaults: { minDurationMs: ctx.config.scoring.minDurationMs, mergeGapMs: ctx.config.scoring.mergeGapMs },
        })
        .catch((error: unknown) => {
          if (error instanceof EvaluationInputError || error instanceof GroundTruthError) {
            program.error(`error: ${error.message}`, { exitCode: 2 });
          }
          throw error;
        });

      if (options.plot) {
        const written = await writeCurveCharts(options.plot, report.runs);
        process.stderr.write(`wrote ${written.roc} and ${written.pr}\n`);
      }
      const rows = rowsOf(report);
      if (options.format === 'json') {
        const runs = report.runs.map(({ curves: _curves, ...run }) => run);
        process.stdout.write(`${ctx.json({ ...report, runs })}\n`);
      } else if (options.format === 'csv') {
        process.stdout.write(`${['metric', ...report.runs.map((r) => csvCell(r.label))].join(',')}\n`);
        for (const row of rows) {
          const values = report.runs.map((r) => {
            const value = row.value(r);
            return Number.isNaN(value) ? '' : String(value);
          });
          process.stdout.write(`${[csvCell(row.key), ...values].join(',')}\n`);
        }
      } else {
        const cells = [['metric', ...report.runs.map((r) => r.label)]];
        for (const row of rows) {
          cells.push([
            row.name,
            ...report.runs.map((r) => {
              const value = row.value(r);
              return Number.isNaN(value) ? 'n/a' : value.toFixed(row.digits);
            }),
          ]);
        }
        const events = report.runs.map((r) => {
          const { stored, recomputed } = r.eventsFrom;
          const recut = recomputed ? `, ${recomputed} re-cut from clip scores (made at another threshold)` : '';
          return `${r.label}: ${stored} runs' events as stored${recut}`;
        });
        const defaulted = options.threshold === undefined ? ' (VAD_EVENT_THRESHOLD)' : '';
        const notes = [`threshold ${threshold}${defaulted}; events: ${events.join('; ')}`];
        if (report.annotations.unmatched.length) {
          notes.push(`left out, no video: ${listSome(report.annotations.unmatched)}`);
        }
        if (report.annotations.withoutRun.length) {
          notes.push(`left out, no run: ${listSome(report.annotations.withoutRun)}`);
        }
        process.stdout.write(`${table(cells)}\n\n${notes.join('\n')}\n`);
      }
    });
}
