import { stat } from 'node:fs/promises';
import { headFile, headNameProblem } from '@vad/clip';
import { type ScoringOverrides, scoringOverridesSchema } from '@vad/queue';
import { loadPromptSet } from '@vad/stages';
import { installHead } from '@vad/training';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { waitForJobs } from '../wait-for-jobs.js';

/** The options; a time without an offset is read in VAD_TIMEZONE (`isoDate`). */
const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    camera: z.string().min(1).optional(),
    since: isoDate.optional(),
    prompts: z.string().min(1).optional(),
    threshold: z.coerce.number().optional(),
    aggregator: z.string().optional(),
    smoothing: z.coerce.number().optional(),
    minDuration: z.coerce.number().optional(),
    mergeGap: z.coerce.number().optional(),
    mode: z.string().optional(),
    head: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    wait: z.boolean().optional(),
  });

/** `--head`: a file to install (a path, or a file that exists) or a head name in heads/. */
async function headArgument(
  value: string,
): Promise<{ kind: 'file'; file: string; problem?: undefined } | { kind: 'name'; name: string; problem?: string }> {
  const isFile = await stat(value).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile) return { kind: 'file', file: value };
  if (/[/\\]/.test(value)) return { kind: 'name', name: value, problem: `no such file ${value}` };
  return { kind: 'name', name: value.replace(/\.onnx$/, ''), problem: headNameProblem(value) };
}

export function registerRescore(program: Command, context: () => CliContext): void {
  program
    .command('rescore')
    .description(
      'score finished videos again from their stored frame embeddings (no decoding, no image encoding): ' +
        'queues the same rescore job as POST /v1/videos/:id/rescore, run by the aggregate workers',
    )
    .argument('[videos...]', 'video ids')
    .option('--camera <name>', 'every video of this camera (with --since: recorded since then)')
    .option('--since <iso>', 'with --camera: only videos recorded since this time (without an offset: VAD_TIMEZONE)')
    .option('--prompts <file>', 'prompt set file, YAML (.yaml/.yml) or JSON: {name, templates, normal, classes}')
    .option('--threshold <n>', 'event threshold (0..1)')
    .option('--aggregator <name>', "mean | attention | onnx (the aggregate workers' VAD_TEMPORAL_HEAD)")
    .option('--smoothing <clips>', 'moving-average window over clip scores')
    .option('--min-duration <ms>', 'shortest event kept, in milliseconds')
    .option('--merge-gap <ms>', 'events closer than this (milliseconds) are merged')
    .option('--mode <mode>', "prompts | normality | fused | learned (the workers' VAD_SCORING_HEAD unless --head)")
    .option(
      '--head <file|name>',
      'score with a learned head (mode learned): a head NAME in <VAD_MODEL_DIR>/heads (vad train --out NAME), or a ' +
        'head FILE, installed there first (copied, named by its sha256 unless --name)',
    )
    .option('--name <name>', 'with --head FILE: the name to install it under')
    .option('--wait', 'wait for each rescore to finish (needs running aggregate workers), with progress')
    .action(async (ids: string[], raw: Record<string, unknown>) => {
      const parsed = optionsSchema(context().dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option --${String(issue?.path[0] ?? '')}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      if (!ids.length && !options.camera) program.error('error: name video ids or --camera', { exitCode: 2 });
      if (options.since && !options.camera) program.error('error: --since goes with --camera', { exitCode: 2 });
      for (const id of ids)
        if (!z.uuid().safeParse(id).success) program.error(`error: "${id}" is not a video id`, { exitCode: 2 });
      if (options.head && options.mode && options.mode !== 'learned')
        program.error(`error: --head scores with mode learned, not ${options.mode}`, { exitCode: 2 });
      if (options.name && !options.head) program.error('error: --name goes with --head FILE', { exitCode: 2 });
      const headSource = options.head ? await headArgument(options.head) : undefined;
      if (headSource?.kind === 'name' && options.name)
        program.error(`error: --name goes with --head FILE; ${options.head} is a head name`, { exitCode: 2 });
      if (headSource?.problem) program.error(`error: option --head: ${headSource.problem}`, { exitCode: 2 });
      // Checked here, before anything is queued: a bad file or value never reaches a worker.
      const promptSet = options.prompts
        ? await loadPromptSet(options.prompts).catch((error: Error) =>
            program.error(`error: --prompts ${error.message}`, { exitCode: 2 }),
          )
        : undefined;
      const overrides = scoringOverridesSchema.safeParse({
        promptSet,
        threshold: options.threshold,
        aggregator: options.aggregator,
        smoothingClips: options.smoothing,
        minDurationMs: options.minDuration,
        mergeGapMs: options.mergeGap,
        mode: options.head ? 'learned' : options.mode,
        // A file is installed below (before queuing); the job names the head by its name in heads/.
        head: headSource?.kind === 'name' ? headSource.name : undefined,
      });
      if (!overrides.success) {
        const issue = overrides.error.issues[0];
        const flags: Record<string, string> = {
          smoothingClips: 'smoothing',
          promptSet: 'prompts',
          minDurationMs: 'min-duration',
          mergeGapMs: 'merge-gap',
        };
        const flag = flags[String(issue?.path[0])] ?? issue?.path[0];
        program.error(`error: option --${String(flag)}: ${issue?.message}`, { exitCode: 2 });
      }
      const scoring: ScoringOverrides = overrides.data;

      const ctx = context();
      const videos = options.camera ? await ctx.repos.videos.listByCamera(options.camera, options.since) : [];
      const targets = [...new Set([...ids, ...videos.map((v) => v.id)])];
      if (!targets.length) program.error('error: no video matches', { exitCode: 1 });
      const modelDir = ctx.config.models.dir;
      if (headSource?.kind === 'file') {
        // Into the shared model folder, where every aggregate worker finds it by name.
        const installed = await installHead(modelDir, headSource.file, options.name);
        process.stdout.write(
          `${installed.installed ? 'installed' : 'already installed'} head ${installed.name} ` +
            `(sha256 ${installed.sha256.slice(0, 16)}…): ${installed.file}\n`,
        );
        scoring.head = installed.name;
      } else if (headSource?.kind === 'name') {
        const file = headFile(modelDir, headSource.name);
        if (!(await stat(file).catch(() => undefined)))
          throw new Error(
            `no head named ${headSource.name} in ${modelDir}/heads: vad train --out NAME, or --head FILE`,
          );
      }
      const queued: { videoId: string; jobId: string }[] = [];
      let refused = 0;
      for (const videoId of targets) {
        try {
          const jobId = await ctx.control.rescore(videoId, scoring);
          queued.push({ videoId, jobId });
          process.stdout.write(`queued   ${videoId}  (job ${jobId})\n`);
        } catch (error) {
          refused += 1;
          process.stderr.write(`refused  ${videoId}: ${(error as Error).message}\n`);
        }
      }
      let failed = 0;
      if (options.wait && queued.length) {
        for (const outcome of await waitForJobs(ctx.queues.aggregate, queued)) {
          if (outcome.state === 'completed') {
            const r = outcome.result as { runId: string; clips: number; events: number };
            process.stdout.write(
              `rescored ${outcome.videoId}: ${r.clips} clips, ${r.events} events (run ${r.runId})\n`,
            );
          } else {
            failed += 1;
            process.stderr.write(`failed   ${outcome.videoId}: ${outcome.reason}\n`);
          }
        }
      }
      process.exitCode = refused || failed ? 1 : 0;
    });
}
