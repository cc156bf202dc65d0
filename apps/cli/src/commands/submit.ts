import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { QueueingError, SubmitError, type SubmitResult } from '@vad/operations';
import { MAX_PRIORITY } from '@vad/schedule';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { expandPaths } from '../expand-paths.js';
import { formatBytes, formatDuration } from '../format.js';
import { waitForVideos } from '../wait-for-videos.js';

/** The options; a time without an offset is read in VAD_TIMEZONE (`isoDate`). */
const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    camera: z.string().trim().min(1, 'must not be empty').max(200).optional(),
    recordedAt: isoDate.optional(),
    priority: z.coerce.number().int().min(1).max(MAX_PRIORITY).optional(),
    now: z.boolean().optional(),
    json: z.boolean().optional(),
    wait: z.boolean().optional(),
  });

export interface SubmitOutcome {
  path: string;
  result?: SubmitResult;
  error?: string;
}

export function registerSubmit(program: Command, context: () => CliContext): void {
  program
    .command('submit')
    .description('queue video files (or every video in the given folders) for processing')
    .argument('<paths...>', 'video files and/or folders')
    .option('--camera <name>', 'camera the footage comes from (created on first use)')
    .option(
      '--recorded-at <iso>',
      'when the recording started, e.g. 2026-11-28T22:00 (without an offset: VAD_TIMEZONE; default: file time minus duration)',
    )
    .option('--priority <n>', "queue priority, 1 = most urgent (default: the camera's fair share)")
    .option('--now', 'urgent: process at once, outside the processing window too')
    .option('--json', 'print one JSON object per file instead of text')
    .option('--wait', 'wait until every queued video is scored (needs running workers), with progress')
    .action(async (paths: string[], raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = optionsSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const option = String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        program.error(`error: option --${option}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      const service = ctx.submit;

      const files = await expandPaths(paths);
      if (files.length === 0) program.error('error: no video files found in the given folders', { exitCode: 2 });
      const sizes = await Promise.all(
        files.map((f) =>
          stat(f).then(
            (s) => (s.isFile() ? s.size : 0),
            () => 0,
          ),
        ),
      );
      const totalBytes = sizes.reduce((a, b) => a + b, 0);
      const bar = new cliProgress.SingleBar(
        {
          format: 'hashing {bar} {percentage}% | {done}/{files} files | {file}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      const showBar = process.stderr.isTTY && !options.json;
      if (showBar) bar.start(Math.max(1, totalBytes), 0, { done: 0, files: files.length, file: '' });

      const outcomes: SubmitOutcome[] = [];
      let hashedBefore = 0;
      for (const [i, path] of files.entries()) {
        if (showBar) bar.update(hashedBefore, { done: i, file: basename(path) });
        try {
          const result = await service.submit(
            {
              path,
              camera: options.camera,
              recordedAt: options.recordedAt,
              priority: options.priority,
              urgent: options.now,
            },
            { onHashProgress: (bytes) => showBar && bar.update(hashedBefore + bytes) },
          );
          outcomes.push({ path, result });
        } catch (error) {
          if (error instanceof QueueingError) {
            // Recorded, not queued: the reconciler (scheduler role) queues it once Redis answers.
            const reason = 'Redis unreachable; it is queued once Redis answers';
            outcomes.push({ path, error: `recorded as ${error.videoId} but not queued: ${reason}` });
          } else if (error instanceof SubmitError) {
            outcomes.push({ path, error: error.reason });
          } else {
            throw error;
          }
        }
        hashedBefore += sizes[i] ?? 0;
      }
      if (showBar) bar.stop();

      for (const outcome of outcomes) {
        if (options.json) {
          process.stdout.write(`${JSON.stringify(outcome)}\n`);
        } else if (outcome.error) {
          process.stderr.write(`rejected   ${outcome.path}: ${outcome.error}\n`);
        } else if (outcome.result) {
          const r = outcome.result;
          const what = r.created ? 'queued   ' : 'duplicate';
          const note = r.created ? '' : ` (already ${r.status}${r.error ? `: ${r.error}` : ''})`;
          process.stdout.write(`${what}  ${r.videoId}  ${formatDuration(r.durationMs)}  ${r.path}${note}\n`);
        }
      }
      const rejected = outcomes.filter((o) => o.error).length;
      if (!options.json) {
        const queued = outcomes.filter((o) => o.result?.created).length;
        process.stderr.write(
          `${queued} queued, ${outcomes.length - queued - rejected} duplicate, ${rejected} rejected (${formatBytes(totalBytes)})\n`,
        );
      }
      process.exitCode = rejected ? 1 : 0;
      const accepted = outcomes.filter((o) => o.result && o.result.status !== 'failed');
      if (options.wait && accepted.length) {
        const finished = await waitForVideos(
          ctx,
          accepted.map((o) => o.result?.videoId ?? ''),
          accepted.map((o) => basename(o.path)),
        );
        for (const f of finished) {
          process.stdout.write(`${f.status.padEnd(9)}  ${f.videoId}${f.error ? `: ${f.error}` : ''}\n`);
        }
        if (finished.some((f) => f.status === 'failed')) process.exitCode = 1;
      }
    });
}
