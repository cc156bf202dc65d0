import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

const weightSchema = z.coerce.number().int().min(1, 'must be 1 to 1000').max(1000, 'must be 1 to 1000');

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
      const lines = [['camera', 'weight', 'waiting', 'processing', 'done', 'failed']];
      for (const c of rows) {
        lines.push([
          c.name,
          String(c.weight),
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
}
