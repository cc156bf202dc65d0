import { FolderWatcher } from '@vad/operations';
import { compilePattern } from '@vad/schedule';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { runUntilSignal } from '../run-until-signal.js';

interface WatchOptions {
  camera?: string;
  cameraFrom?: string;
  recordedAtFrom?: string;
}

export function registerWatch(program: Command, context: () => CliContext): void {
  program
    .command('watch')
    .description('submit every recording that appears in a folder (recursively), once it has finished being written')
    .argument('<dir>', 'the folder cameras or an NVR write to')
    .option('--camera <name>', 'camera of every file (when --camera-from does not match)')
    .option(
      '--camera-from <regex>',
      'camera from the path relative to DIR: a (?<camera>…) group or the first group, e.g. "^([^/]+)/"',
    )
    .option(
      '--recorded-at-from <regex>',
      'recording time from the path, in VAD_TIMEZONE: groups year, month, day[, hour, minute, second] or epoch, ' +
        'e.g. "(?<year>\\d{4})(?<month>\\d\\d)(?<day>\\d\\d)_(?<hour>\\d\\d)(?<minute>\\d\\d)(?<second>\\d\\d)"',
    )
    .action(async (dir: string, options: WatchOptions) => {
      const patterns = (() => {
        try {
          return {
            cameraFrom: options.cameraFrom ? compilePattern(options.cameraFrom, '--camera-from') : undefined,
            recordedAtFrom: options.recordedAtFrom
              ? compilePattern(options.recordedAtFrom, '--recorded-at-from')
              : undefined,
          };
        } catch (error) {
          return program.error(`error: ${(error as Error).message}`, { exitCode: 2 });
        }
      })();
      const ctx = context();
      const { config } = ctx;
      const logger = ctx.logger.child({}, { level: config.log.level });
      const watcher = new FolderWatcher(
        dir,
        {
          stableMs: config.watch.stableMs,
          polling: config.watch.polling,
          camera: options.camera,
          timeZone: config.schedule.timeZone,
          skipOlderThanMs:
            config.retention.resultsDays === undefined ? undefined : config.retention.resultsDays * 86_400_000,
          ...patterns,
        },
        { submit: ctx.submit, repos: ctx.repos, logger },
        (event) => {
          // One line per new submission and per skip with its reason; the initial scan's files
          // already submitted (or older than retention) only in one summary line.
          if (event.type === 'submitted') {
            const { result } = event;
            process.stdout.write(`${result.created ? 'queued   ' : 'duplicate'} ${event.path} → ${result.videoId}\n`);
          } else if (event.type === 'skipped') {
            process.stdout.write(`skipped   ${event.path}: ${event.reason}\n`);
          } else if (event.type === 'rejected') {
            process.stdout.write(`rejected  ${event.path}: ${event.reason}\n`);
          } else if (event.alreadySubmitted > 0 || event.olderThanRetention > 0) {
            const counts = [
              ...(event.alreadySubmitted > 0 ? [`${event.alreadySubmitted} files already submitted`] : []),
              ...(event.olderThanRetention > 0
                ? [`${event.olderThanRetention} older than the results retention period`]
                : []),
            ];
            process.stdout.write(`skipped   ${counts.join(', ')}\n`);
          }
        },
      );
      await watcher.start().catch((error: Error) => program.error(`error: ${error.message}`, { exitCode: 1 }));
      process.stderr.write(
        `watching ${dir} (a file, one already there too, is submitted once unchanged for ${config.watch.stableMs} ms; ` +
          'Ctrl-C to stop)\n',
      );
      await runUntilSignal(ctx, logger, () => watcher.close());
    });
}
