import { scoringModeSchema } from '@vad/config';
import { NORMAL_SOURCES } from '@vad/db';
import { CalibrationService, NormalMemoryService } from '@vad/operations';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

const weightSchema = z.coerce.number().int().min(1, 'must be 1 to 1000').max(1000, 'must be 1 to 1000');

/** learn-normal's options; times without an offset are read in VAD_TIMEZONE (`isoDate`). */
const learnSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    videos: z.array(z.uuid('is not a video id')).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    fromReviews: z.boolean().optional(),
    history: z.boolean().optional(),
    clear: z
      .union([z.literal(true), z.enum(NORMAL_SOURCES)], {
        error: `must be one of ${NORMAL_SOURCES.join(' | ')}, or none`,
      })
      .optional(),
    json: z.boolean().optional(),
  });

const calibrateSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    maxFalseAlarmsPerHour: z.coerce.number().min(0, 'must be 0 or more').optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    mode: scoringModeSchema.optional(),
    dryRun: z.boolean().optional(),
    reset: z.boolean().optional(),
    json: z.boolean().optional(),
  });

/** The first problem of a failed parse as commander reports an option's: `--max-false-alarms-per-hour: …`. */
const optionIssue = (error: z.ZodError) => {
  const issue = error.issues[0];
  const option = String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `error: option --${option}: ${issue?.message}`;
};

export function registerCameras(program: Command, context: () => CliContext): void {
  const cameras = program.command('cameras').description("cameras, their share of processing and their videos' state");
  cameras
    .command('list', { isDefault: true })
    .description('each camera with its weight and how many of its videos wait, run, are done or failed')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = context();
      const rows = await ctx.repos.cameras.list();
      if (options.json) {
        process.stdout.write(`${ctx.json(rows)}\n`);
        return;
      }
      if (!rows.length) {
        process.stdout.write('no cameras yet (they are created by submit --camera)\n');
        return;
      }
      const lines = [['camera', 'weight', 'mode', 'threshold', 'waiting', 'processing', 'done', 'failed']];
      for (const c of rows) {
        lines.push([
          c.name,
          String(c.weight),
          c.scoringMode ?? '-',
          c.threshold === null ? '-' : String(Number(c.threshold.toFixed(6))),
          String(c.waiting),
          String(c.processing),
          String(c.done),
          String(c.failed),
        ]);
      }
      process.stdout.write(`${table(lines)}\n`);
    });
  cameras
    .command('set')
    .description("set a camera's weight: its share of processing against other cameras (100 = normal)")
    .argument('<name>', 'camera name (created if new)')
    .requiredOption('--weight <n>', '1–1000; 200 moves twice as fast through the queue as 100')
    .action(async (name: string, raw: { weight: string }) => {
      const weight = weightSchema.safeParse(raw.weight);
      if (!weight.success) program.error(`error: option --weight: ${weight.error.issues[0]?.message}`, { exitCode: 2 });
      const camera = await context().repos.cameras.setWeight(name, weight.data);
      process.stdout.write(
        `camera ${camera.name}: weight ${camera.weight} (applies to videos submitted from now on)\n`,
      );
    });
  cameras
    .command('learn-normal')
    .description(
      "learn a camera's normal scene: its memory of normal clip features, which scoring modes normality and fused " +
        'measure clips against (new clips join what it holds; at most 4,000 are kept, by a farthest-point coreset)',
    )
    .argument('<name>', 'camera name')
    .option('--videos <ids...>', 'these videos show the normal scene')
    .option(
      '--since <iso>',
      'videos recorded at or after this time (without an offset: VAD_TIMEZONE); alone with --until: they are normal',
    )
    .option('--until <iso>', 'videos recorded before this time (without an offset: VAD_TIMEZONE)')
    .option('--from-reviews', 'the clips of events operators marked false alarms')
    .option(
      '--history',
      "the camera's recent videos (since --since, default the last 7 days) minus events confirmed real",
    )
    .option(
      '--clear [source]',
      `first drop the memory, or only its features of one source (${NORMAL_SOURCES.join(' | ')}); alone: only that`,
    )
    .option('--json', 'print JSON')
    .action(async (name: string, raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = learnSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) program.error(optionIssue(parsed.error), { exitCode: 2 });
      const { json, ...options } = parsed.data;
      const service = new NormalMemoryService({ repos: ctx.repos, logger: ctx.logger });
      const result = await service.learn(name, options);
      if (json) {
        process.stdout.write(`${ctx.json(result)}\n`);
        return;
      }
      const lines: string[] = [];
      if (options.clear) lines.push(`camera ${result.camera}: ${result.cleared} features cleared`);
      for (const m of result.models) {
        const sources = NORMAL_SOURCES.filter((s) => m.kept[s] || m.read[s])
          .map((s) => `${s} ${m.kept[s]} of ${m.read[s]} clips`)
          .join(', ');
        lines.push(`camera ${result.camera}, model ${m.model}: normal memory of ${m.size} features (${sources})`);
      }
      if (result.models.length) lines.push(`learned from ${result.videos} videos`);
      for (const s of result.skipped) lines.push(`skipped video ${s.videoId}: ${s.reason}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  cameras
    .command('calibrate')
    .description(
      "set a camera's event threshold from its own recent scores: the lowest at which its footage would have raised " +
        'at most the given false alarms per hour (events simulated as the aggregate stage extracts them); the camera ' +
        'is then scored in that mode with that threshold',
    )
    .argument('<name>', 'camera name')
    .option('--max-false-alarms-per-hour <n>', 'events per hour of footage the threshold may let through, e.g. 0.5')
    .option(
      '--since <iso>',
      'footage recorded at or after this time (default: the last 7 days; without an offset: VAD_TIMEZONE)',
    )
    .option('--until <iso>', 'footage recorded before this time (without an offset: VAD_TIMEZONE)')
    .option(
      '--mode <mode>',
      "the scoring mode to calibrate (default: the camera's, else VAD_SCORING_MODE): prompts | normality | fused | learned",
    )
    .option('--dry-run', 'show the threshold without setting it')
    .option('--reset', "remove the camera's threshold and mode: VAD_EVENT_THRESHOLD and VAD_SCORING_MODE apply again")
    .option('--json', 'print JSON')
    .action(async (name: string, raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = calibrateSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) program.error(optionIssue(parsed.error), { exitCode: 2 });
      const { json, reset, maxFalseAlarmsPerHour, ...options } = parsed.data;
      const service = new CalibrationService({ config: ctx.config, repos: ctx.repos, logger: ctx.logger });
      if (reset) {
        const camera = await service.reset(name);
        process.stdout.write(
          json
            ? `${ctx.json(camera)}\n`
            : `camera ${camera.name}: no calibration (VAD_EVENT_THRESHOLD, VAD_SCORING_MODE)\n`,
        );
        return;
      }
      if (maxFalseAlarmsPerHour === undefined)
        program.error("error: required option '--max-false-alarms-per-hour <n>' not specified (or --reset)", {
          exitCode: 2,
        });
      const result = await service.calibrate(name, { ...options, maxFalseAlarmsPerHour });
      if (json) {
        process.stdout.write(`${ctx.json(result)}\n`);
        return;
      }
      const was =
        result.previous.threshold === null
          ? 'none'
          : `${Number(result.previous.threshold.toFixed(6))} (${result.previous.scoringMode ?? ctx.config.scoring.mode})`;
      process.stdout.write(
        `camera ${result.camera}, mode ${result.mode}: threshold ${result.threshold} ` +
          `(${result.events} events in ${result.hours.toFixed(2)} h of footage from ${result.videos} videos since ${ctx.time(result.since)}, ` +
          `${result.eventsPerHour.toFixed(2)} per hour; was ${was})${result.stored ? '' : ' — dry run, not set'}\n`,
      );
    });
}
