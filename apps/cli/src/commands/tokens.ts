import { API_SCOPES, createApiToken } from '@vad/config';
import type { Command } from 'commander';
import { z } from 'zod';

const optionsSchema = z.object({ scope: z.enum(API_SCOPES).default('read') });

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API bearer tokens');
  tokens
    .command('create')
    .description('make a new API token: prints the token (shown once) and the VAD_API_TOKENS entry that admits it')
    .argument('<name>', 'who or what uses it, e.g. ops or grafana (letters, digits, . _ -)')
    .option(
      '--scope <scope>',
      'read (query results, health, metrics) or admin (also upload, rescore, queue controls)',
      'read',
    )
    .action((name: string, raw: Record<string, unknown>) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(name))
        program.error('error: name: letters, digits, ".", "_" and "-" only', { exitCode: 2 });
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success)
        program.error(`error: option --scope: must be one of ${API_SCOPES.join(', ')}`, { exitCode: 2 });
      const { token, entry } = createApiToken(name, parsed.data.scope);
      process.stdout.write(
        `token (give it to the client; it is not stored anywhere):\n  ${token}\n\n` +
          `add this entry to VAD_API_TOKENS (comma-separated) where the API runs, then restart it:\n  ${entry}\n`,
      );
    });
}
