import { migrateDatabase } from '@vad/db';
import { migrateQueueSchema, queueSchemaOf } from '@vad/queue';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerDb(program: Command, context: () => CliContext): void {
  const db = program.command('db').description('database administration');
  db.command('migrate')
    .description(
      'create the database if missing and apply pending migrations (and the queue schema on the postgres backend)',
    )
    .action(async () => {
      const ctx = context();
      const url = new URL(ctx.config.database.url);
      const { created } = await migrateDatabase(ctx.config.database.url);
      process.stdout.write(
        `${created ? 'created database' : 'database'} ${url.pathname.slice(1)} on ${url.host}: migrations applied\n`,
      );
      if (ctx.config.queue.backend === 'postgres') {
        await migrateQueueSchema(ctx.config);
        process.stdout.write(`queues: schema ${queueSchemaOf(ctx.config.queue.prefix)} up to date\n`);
      }
    });
}
