import { resolve } from 'node:path';
import { createAggregateService } from '@vad/aggregate-worker';
import type { Config } from '@vad/config';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';

const optionsSchema = z.object({
  camera: z.string().min(1).optional(),
  since: z.iso
    .datetime({ offset: true, local: true, message: 'must be an ISO 8601 date-time' })
    .transform((v) => new Date(v))
    .optional(),
  prompts: z.string().min(1).optional(),
  threshold: z.coerce.number().gt(0).lt(1).optional(),
  aggregator: z.enum(['mean', 'attention', 'onnx']).optional(),
  head: z.string().min(1).optional(),
  smoothing: z.coerce.number().int().min(1).max(99).optional(),
});

export function registerRescore(program: Command, context: () => CliContext): void {
  program
    .command('rescore')
    .description('score videos again from their stored frame embeddings (no decoding, no image encoding)')
    .argument('[videos...]', 'video ids')
    .option('--camera <name>', 'every video of this camera (with --since: recorded since then)')
    .option('--since <iso>', 'with --camera: only videos recorded since this time')
    .option('--prompts <file>', 'prompt set JSON file {name, templates, normal, classes}')
    .option('--threshold <n>', 'event threshold (0..1)')
    .option('--aggregator <name>', 'mean | attention | onnx')
    .option('--head <file>', 'temporal head ONNX file (for --aggregator onnx)')
    .option('--smoothing <clips>', 'moving-average window over clip scores')
    .action(async (ids: string[], raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option --${String(issue?.path[0] ?? '')}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      if (!ids.length && !options.camera) program.error('error: name video ids or --camera', { exitCode: 2 });
      for (const id of ids)
        if (!z.uuid().safeParse(id).success) program.error(`error: "${id}" is not a video id`, { exitCode: 2 });
      const ctx = context();
      const config: Config = {
        ...ctx.config,
        scoring: {
          ...ctx.config.scoring,
          promptSetFile: options.prompts ?? ctx.config.scoring.promptSetFile,
          threshold: options.threshold ?? ctx.config.scoring.threshold,
          aggregator: options.aggregator ?? ctx.config.scoring.aggregator,
          temporalHead: options.head ? resolve(options.head) : ctx.config.scoring.temporalHead,
          smoothingClips: options.smoothing ?? ctx.config.scoring.smoothingClips,
        },
      };
      const videos = options.camera ? await ctx.repos.videos.listByCamera(options.camera, options.since) : [];
      const targets = [...new Set([...ids, ...videos.map((v) => v.id)])];
      if (!targets.length) program.error('error: no video matches', { exitCode: 1 });
      const { service, close } = createAggregateService(config, ctx.repos, ctx.logger);
      let failed = 0;
      try {
        for (const videoId of targets) {
          try {
            const result = await service.aggregate(
              { videoId },
              { jobId: `rescore.${videoId}`, attemptsMade: 0, maxAttempts: 1, updateProgress: async () => {} },
            );
            process.stdout.write(
              `rescored ${videoId}: ${result.clips} clips, ${result.events} events (run ${result.runId})\n`,
            );
          } catch (error) {
            failed += 1;
            process.stderr.write(`failed   ${videoId}: ${(error as Error).message}\n`);
          }
        }
      } finally {
        await close();
      }
      process.exitCode = failed ? 1 : 0;
    });
}
