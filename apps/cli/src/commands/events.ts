import { userInfo } from 'node:os';
import type { EventReviewSummary } from '@vad/db';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { csvCell, table } from '../format.js';
import { optionOf } from '../options.js';

/** The options; times without an offset are read in VAD_TIMEZONE (`isoDate`). */
const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    camera: z.string().min(1).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    minScore: z.coerce.number().min(0).max(1).optional(),
    label: z.string().min(1).optional(),
    verdict: z.enum(['true', 'false', 'unreviewed'], { message: 'must be true, false or unreviewed' }).optional(),
    captionText: z.string().trim().min(1).max(500).refine(storable, { message: 'must not contain NUL' }).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(50),
    format: z.enum(['table', 'json', 'csv']).default('table'),
  });

/** Text PostgreSQL can store: no NUL. */
const storable = (value: string) => !value.includes('\u0000');

const reviewOptionsSchema = z
  .object({
    id: z
      .string()
      .regex(/^[1-9]\d{0,14}$/, { message: 'must be an event id (a positive integer)' })
      .transform(Number),
    verdict: z
      .enum(['true', 'false'], { message: 'must be true (a real incident) or false (a false alarm)' })
      .optional(),
    note: z
      .string()
      .max(2000, { message: 'at most 2000 characters' })
      .refine(storable, { message: 'must not contain NUL' })
      .optional(),
    by: z.string().trim().min(1, { message: 'must not be empty' }).max(200).refine(storable).optional(),
    clear: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.clear && (o.verdict || o.note !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['clear'],
        message: 'removes the review: give it without --verdict and --note',
      });
    } else if (!o.clear && !o.verdict) {
      ctx.addIssue({ code: 'custom', path: ['verdict'], message: 'is required (true or false), or --clear to remove' });
    }
  });

/** Who reviews from this shell: the OS user name (`id -un`). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (e.g. a container running under an arbitrary uid).
    return process.env.USER || process.env.LOGNAME || 'unknown';
  }
}

/** The review as the CSV's review columns, in order: verdict, note, reviewedBy, reviewedAt. */
const reviewCells = (review: EventReviewSummary | null) => [
  review?.verdict,
  review?.note,
  review?.reviewedBy,
  review?.reviewedAt,
];

export function registerEvents(program: Command, context: () => CliContext): void {
  const events = program
    .command('events')
    .description(
      'anomaly events across videos (latest scoring run of each), newest first; `events review` to judge one',
    )
    .option('--camera <name>', 'only this camera')
    .option('--since <iso>', 'events starting at or after this time (without an offset: VAD_TIMEZONE)')
    .option('--until <iso>', 'events starting at or before this time (without an offset: VAD_TIMEZONE)')
    .option('--min-score <n>', 'peak score at least n (0..1)')
    .option('--label <class>', 'only this class, e.g. Fighting')
    .option(
      '--verdict <verdict>',
      'true | false | unreviewed: only events reviewed as true or false alarms, or not yet',
    )
    .option(
      '--caption-text <words>',
      'events whose caption has these words (full-text: stemmed, `smoke -car`, "a quoted phrase")',
    )
    .option('--limit <n>', 'at most n events', '50')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = optionsSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option ${optionOf(issue)}: ${issue?.message}`, { exitCode: 2 });
      }
      const { format, ...query } = parsed.data;
      const rows = await ctx.repos.scoring.findEvents(query);
      if (format === 'json') {
        process.stdout.write(`${ctx.json(rows)}\n`);
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
          'caption',
        ] as const;
        const reviewColumns = ['verdict', 'note', 'reviewedBy', 'reviewedAt'];
        process.stdout.write(`${[...columns, ...reviewColumns].join(',')}\n`);
        for (const e of rows) {
          const cells = [...columns.map((c) => e[c]), ...reviewCells(e.review)];
          process.stdout.write(`${cells.map((c) => csvCell(c, ctx.display)).join(',')}\n`);
        }
      } else {
        const lines = [['start', 'end', 'camera', 'label', 'score', 'verdict', 'id', 'video', 'offset', 'caption']];
        for (const e of rows) {
          lines.push([
            ctx.time(e.startAt),
            ctx.time(e.endAt),
            e.camera ?? '-',
            e.label,
            e.peakScore.toFixed(2),
            e.review?.verdict ?? '-',
            String(e.id),
            e.videoId,
            `${Math.round(e.startMs / 1000)}s`,
            e.caption ?? '-',
          ]);
        }
        process.stdout.write(rows.length ? `${table(lines)}\n` : 'no events match\n');
      }
    });

  events
    .command('review')
    .description(
      "record an operator's verdict on an event, with who and when (replaces its earlier review): " +
        "false alarms feed the camera's normal memory, true ones become training labels",
    )
    .argument('<id>', 'event id (the id column of `vad events`)')
    .option('--verdict <verdict>', 'true (a real incident) | false (a false alarm)')
    .option('--note <text>', 'a note for the record (at most 2000 characters)')
    .option('--by <name>', 'who reviews (default: the OS user name)')
    .option('--clear', "remove the event's review instead")
    .action(async (id: string, own: Record<string, unknown>) => {
      // Commander reads `--verdict` in `vad events review 12 --verdict false` as the listing's
      // own option (the parent's options are parsed before the subcommand is chosen): take it
      // from there, and refuse the listing's other options, which mean nothing here.
      const listingOnly = events.options
        .map((o) => o.attributeName())
        .filter((name) => name !== 'verdict' && events.getOptionValueSource(name) === 'cli');
      if (listingOnly.length) {
        const flags = listingOnly.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        program.error(`error: ${flags.join(', ')}: not an option of events review`, { exitCode: 2 });
      }
      const raw = { ...own, verdict: own.verdict ?? events.opts().verdict };
      const parsed = reviewOptionsSchema.safeParse({ ...raw, id });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const what = issue?.path[0] === 'id' ? `event id "${id}"` : `option ${optionOf(issue)}`;
        program.error(`error: ${what}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      const ctx = context();
      if (options.clear) {
        if (!(await ctx.repos.scoring.getEvent(options.id))) {
          program.error(`error: no event with id ${options.id}`, { exitCode: 1 });
        }
        const removed = await ctx.repos.reviews.remove(options.id);
        process.stdout.write(removed ? `event ${options.id}: review removed\n` : `event ${options.id} had no review\n`);
        return;
      }
      const { verdict } = options;
      if (!verdict) program.error('error: option --verdict: is required', { exitCode: 2 }); // the schema saw to it
      const review = await ctx.repos.reviews.review(options.id, {
        verdict,
        note: options.note,
        reviewedBy: options.by ?? osUser(),
      });
      if (!review) program.error(`error: no event with id ${options.id}`, { exitCode: 1 });
      const meaning = review.verdict === 'true' ? 'a true alarm' : 'a false alarm';
      process.stdout.write(
        `event ${options.id} (${review.label}): ${meaning}, reviewed by ${review.reviewedBy} at ${ctx.time(review.reviewedAt)}` +
          `${review.note ? `\nnote: ${review.note}` : ''}\n`,
      );
    });
}
