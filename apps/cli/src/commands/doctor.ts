import { type FfmpegBinaries, ffmpegVersions, resolveFfmpegBinaries } from '@vad/video';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

/** Which ffmpeg and ffprobe vad runs, where from, which build, and what vad does to make them work. */
interface BinariesReport {
  ffmpeg?: { path: string; source: string; version: string };
  ffprobe?: { path: string; source: string; version: string };
  workarounds?: string[];
  error?: string;
}

async function binariesReport(ctx: CliContext): Promise<BinariesReport> {
  let binaries: FfmpegBinaries;
  try {
    binaries = resolveFfmpegBinaries(ctx.config.ffmpeg);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const versions = await ffmpegVersions(binaries);
  const describe = (name: 'ffmpeg' | 'ffprobe') => {
    const npmVersion = binaries.version?.[name];
    return {
      path: binaries[name],
      source: binaries.source[name],
      version: npmVersion ? `${versions[name]} (npm build ${npmVersion})` : versions[name],
    };
  };
  return { ffmpeg: describe('ffmpeg'), ffprobe: describe('ffprobe'), workarounds: binaries.workarounds ?? [] };
}

function printBinaries(report: BinariesReport): void {
  if (report.error) {
    process.stdout.write(`ffmpeg: ${report.error}\n`);
    return;
  }
  const rows = [['binary', 'source', 'path', 'version']];
  for (const name of ['ffmpeg', 'ffprobe'] as const) {
    const binary = report[name];
    if (binary) rows.push([name, binary.source, binary.path, binary.version]);
  }
  process.stdout.write(`${table(rows)}\n`);
  for (const workaround of report.workarounds ?? []) process.stdout.write(`workaround: ${workaround}\n`);
}

export function registerDoctor(program: Command, context: () => CliContext): void {
  program
    .command('doctor')
    .description(
      'say which ffmpeg and ffprobe vad runs (path, source, build, workarounds), then find videos that are not ' +
        'finished but have no live job in any queue (stranded by a crash or an outage) ' +
        'and say what the reconciler does about each; --fix does it now (the scheduler role does it every VAD_RECONCILE_EVERY_S)',
    )
    .option('--fix', 'requeue, restore or fail them now, as the reconciler would')
    .option('--json', 'print JSON')
    .action(async (options: { fix?: boolean; json?: boolean }) => {
      const ctx = context();
      const binaries = await binariesReport(ctx);
      if (!options.json) printBinaries(binaries);
      const report = await ctx.reconciler.run({ dryRun: !options.fix });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...report, binaries }, null, 2)}\n`);
        return;
      }
      const verb = options.fix ? 'done' : 'would do';
      process.stdout.write(
        `${report.checked} unfinished videos unchanged for a while, ${report.live} with a live job, ${report.actions.length} stranded\n`,
      );
      if (!report.actions.length) return;
      const rows = [['video', 'status', `${verb}`, 'why']];
      for (const a of report.actions) rows.push([a.videoId, a.status, a.action, a.reason]);
      process.stdout.write(`${table(rows)}\n`);
      if (!options.fix) process.stdout.write('run vad doctor --fix to act now\n');
    });
}
