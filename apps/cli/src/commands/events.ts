import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { formatTimeExact, type TimeDisplay, table } from '../format.js';

/** The options; times without an offset are read in VAD_TIMEZONE (`isoDate`). */
const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    camera: z.string().min(1).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    minScore: z.coerce.number().min(0).max(1).optional(),
    label: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(50),
    format: z.enum(['table', 'json', 'csv']).default('table'),
  });

const csvCell = (value: unknown, display: TimeDisplay) => {
  const text = value instanceof Date ? formatTimeExact(value, display) : String(value ?? '');
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function registerEvents(program: Command, context: () => CliContext): void {
  program
    .command('events')
    .description('anomaly events across videos (latest scoring run of each), newest first')
    .option('--camera <name>', 'only this camera')
    .option('--since <iso>', 'events starting at or after this time (without an offset: VAD_TIMEZONE)')
    .option('--until <iso>', 'events starting at or before this time (without an offset: VAD_TIMEZONE)')
    .option('--min-score <n>', 'peak score at least n (0..1)')
    .option('--label <class>', 'only this class, e.g. Fighting')
    .option('--limit <n>', 'at most n events', '50')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = optionsSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const option = String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        program.error(`error: option --${option}: ${issue?.message}`, { exitCode: 2 });
      }
      const { format, ...query } = parsed.data;
      const events = await ctx.repos.scoring.findEvents(query);
      if (format === 'json') {
        process.stdout.write(`${ctx.json(events)}\n`);
      } else if (format === 'csv') {
        const columns = [
          'id',
          'camera',
          'startAt',
          'endAt',
          'peakScore',
          'label',
          'videoId',
          'startMs',
          'endMs',
          'thumbnailPath',
        ] as const;
        process.stdout.write(`${columns.join(',')}\n`);
        for (const e of events) process.stdout.write(`${columns.map((c) => csvCell(e[c], ctx.display)).join(',')}\n`);
      } else {
        const rows = [['start', 'end', 'camera', 'label', 'score', 'video', 'offset']];
        for (const e of events) {
          rows.push([
            ctx.time(e.startAt),
            ctx.time(e.endAt),
            e.camera ?? '-',
            e.label,
            e.peakScore.toFixed(2),
            e.videoId,
            `${Math.round(e.startMs / 1000)}s`,
          ]);
        }
        process.stdout.write(events.length ? `${table(rows)}\n` : 'no events match\n');
      }
    });
}
