import { createCaptionService } from '@vad/runtime';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { optionOf } from '../options.js';
import { stepProgress } from '../progress-bar.js';

const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    camera: z.string().min(1).optional(),
    since: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(100_000).default(100),
  });

export function registerCaption(program: Command, context: () => CliContext): void {
  program
    .command('caption')
    .description(
      'caption events that have no caption yet, highest score first, with VAD_CAPTIONER (the aggregate workers ' +
        'caption new events themselves; this catches up), within VAD_CAPTION_MAX_PER_DAY',
    )
    .option('--camera <name>', 'only this camera')
    .option('--since <iso>', 'events starting at or after this time (without an offset: VAD_TIMEZONE)')
    .option('--limit <n>', 'at most n events', '100')
    .action(async (raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = optionsSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option ${optionOf(issue)}: ${issue?.message}`, { exitCode: 2 });
      }
      const { config } = ctx;
      const captions = createCaptionService(config, ctx.repos, ctx.logger);
      if (!captions) {
        program.error(
          'error: no captioner configured: set VAD_CAPTIONER (e.g. vit-gpt2-image-captioning; see README "Captions")',
          { exitCode: 2 },
        );
      }
      const progress = stepProgress('captioning {bar} {value}/{total} events');
      try {
        const result = await captions.service.captionEvents({ ...parsed.data, onProgress: progress.update });
        process.stdout.write(
          `captioned ${result.captioned} events with ${config.caption.captioner}` +
            `${result.failed ? `, ${result.failed} failed (see the log)` : ''}` +
            `${result.overBudget ? `, ${result.overBudget} left for later: VAD_CAPTION_MAX_PER_DAY (${config.caption.maxPerDay}) reached` : ''}\n`,
        );
      } finally {
        progress.stop();
        await captions.close();
      }
    });
}
