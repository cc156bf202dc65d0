import { join } from 'node:path';
import { SEARCH_MAX_LIMIT, SEARCH_MAX_OFFSET, SearchError, type SearchResult } from '@vad/search';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { csvCell, table } from '../format.js';
import { optionOf } from '../options.js';
import { stepProgress } from '../progress-bar.js';

const optionsSchema = (isoDate: ReturnType<CliContext['dateTimeOption']>) =>
  z.object({
    likeEvent: z
      .string()
      .regex(/^[1-9]\d{0,14}$/, { message: 'must be an event id (a positive integer)' })
      .transform(Number)
      .optional(),
    camera: z.string().min(1).optional(),
    since: isoDate.optional(),
    until: isoDate.optional(),
    model: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(10),
    offset: z.coerce.number().int().min(0).max(SEARCH_MAX_OFFSET).default(0),
    thumbnails: z.boolean().default(false),
    format: z.enum(['table', 'json', 'csv']).default('table'),
  });

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)}s`;

/** What a search left out, for the line under its results. */
function exclusionNote(result: SearchResult): string {
  const { otherModel, embeddingsRemoved, notDone, unindexed } = result.excluded;
  const parts = [
    otherModel && `${otherModel} embedded with another model`,
    embeddingsRemoved && `${embeddingsRemoved} whose embeddings retention removed`,
    notDone && `${notDone} not finished`,
    unindexed && `${unindexed} not yet indexed (vad search-index)`,
  ].filter(Boolean);
  return parts.length ? `; left out: ${parts.join(', ')}` : '';
}

function printResult(result: SearchResult, ctx: CliContext, format: 'table' | 'json' | 'csv'): void {
  if (format === 'json') {
    process.stdout.write(`${ctx.json(result)}\n`);
    return;
  }
  if (format === 'csv') {
    const columns = [
      'rank',
      'score',
      'relativeScore',
      'camera',
      'startAt',
      'endAt',
      'bestAt',
      'videoId',
      'startMs',
      'endMs',
      'bestFrame',
      'bestMs',
      'frames',
      'thumbnailPath',
    ] as const;
    process.stdout.write(`${columns.join(',')}\n`);
    for (const m of result.moments) {
      process.stdout.write(`${columns.map((c) => csvCell(m[c], ctx.display)).join(',')}\n`);
    }
    return;
  }
  const lines = [['#', 'score', 'rel', 'camera', 'start', 'end', 'video', 'offset', 'best']];
  const withThumbnails = result.moments.some((m) => m.thumbnailPath !== undefined);
  if (withThumbnails) lines[0]?.push('thumbnail');
  for (const m of result.moments) {
    const row = [
      String(m.rank),
      m.score.toFixed(3),
      `${m.relativeScore >= 0 ? '+' : ''}${m.relativeScore.toFixed(1)}σ`,
      m.camera ?? '-',
      ctx.time(m.startAt),
      ctx.time(m.endAt),
      m.videoId,
      `${seconds(m.startMs)}–${seconds(m.endMs)}`,
      seconds(m.bestMs),
    ];
    if (withThumbnails) row.push(m.thumbnailPath ? join(ctx.config.storage.root, m.thumbnailPath) : '-');
    lines.push(row);
  }
  process.stdout.write(result.moments.length ? `${table(lines)}\n` : 'nothing in scope to search\n');
  const more = result.nextOffset !== null ? `; more with --offset ${result.nextOffset}` : '';
  process.stderr.write(
    `${result.method} search of ${result.framesSearched} frames in ${result.videosSearched} videos ` +
      `(model ${result.model}) in ${result.tookMs} ms${exclusionNote(result)}${more}\n`,
  );
}

export function registerSearch(program: Command, context: () => CliContext): void {
  program
    .command('search')
    .description(
      'search the stored frame embeddings: moments that match a text ("a person climbing the fence"), ' +
        'or that look like an event (--like-event), best first, with each score relative to its camera',
    )
    .argument('[text]', 'what to look for, in words (at most 300 characters)')
    .option('--like-event <id>', "moments that look like this event's peak frame (the id column of `vad events`)")
    .option('--camera <name>', 'only this camera')
    .option('--since <iso>', 'moments at or after this time (without an offset: VAD_TIMEZONE)')
    .option('--until <iso>', 'moments before this time (without an offset: VAD_TIMEZONE)')
    .option('--model <name>', "search frames of this embedding model (default: VAD_MODEL, or the event's)")
    .option('--limit <n>', `at most n moments (1..${SEARCH_MAX_LIMIT})`, '10')
    .option('--offset <n>', 'skip the first n moments (the next page)', '0')
    .option('--thumbnails', "make a thumbnail of each moment's best frame (kept under the storage folder)")
    .option('--format <format>', 'table | json | csv', 'table')
    .addHelpText(
      'after',
      '\nScores are cosines between the query and frame embeddings; CLIP cosines bunch together, so each moment\n' +
        "is also given relative to its camera's frames for the same query (rel: standard deviations above the mean).",
    )
    .action(async (text: string | undefined, raw: Record<string, unknown>) => {
      const ctx = context();
      const parsed = optionsSchema(ctx.dateTimeOption()).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        program.error(`error: option ${optionOf(issue)}: ${issue?.message}`, { exitCode: 2 });
      }
      const { format, ...options } = parsed.data;
      if ((text === undefined) === (options.likeEvent === undefined)) {
        program.error('error: give a text to search for, or --like-event ID (not both)', { exitCode: 2 });
      }
      try {
        const result = await ctx.search.service.search({ ...options, ...(text !== undefined ? { text } : {}) });
        printResult(result, ctx, format);
      } catch (error) {
        if (error instanceof SearchError) {
          program.error(`error: ${error.message}`, { exitCode: error.kind === 'bad-input' ? 2 : 1 });
        }
        throw error;
      }
    });

  program
    .command('search-index')
    .description(
      "bring the search's nearest-neighbour index up to date: add finished videos, drop those no longer " +
        'searchable (the scheduler does it nightly when VAD_SEARCH_INDEX=auto)',
    )
    .option('--model <name>', 'the embedding model whose index to update (default: VAD_MODEL)')
    .option('--rebuild', 'build it again from scratch')
    .action(async (options: { model?: string; rebuild?: boolean }) => {
      const ctx = context();
      const model = options.model ?? ctx.config.models.model;
      const progress = stepProgress('indexing {bar} {value}/{total} videos');
      const update = await ctx.search.indexes
        .update(model, { rebuild: options.rebuild, onProgress: progress.update })
        .finally(() => progress.stop());
      process.stdout.write(
        `index of ${model}: ${update.videos} videos, ${update.vectors} vectors ` +
          `(${update.added} added, ${update.removed} removed${update.rebuilt ? ', rebuilt' : ''}) in ${(update.tookMs / 1000).toFixed(1)} s\n`,
      );
    });
}
