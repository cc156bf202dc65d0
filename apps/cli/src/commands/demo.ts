import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getModelSpec, installHint, modelInstallState } from '@vad/clip';
import { apiTokenEntrySchema, type Config, createApiToken } from '@vad/config';
import { migrateDatabase } from '@vad/db';
import { startApi } from '@vad/http';
import { buildModel } from '@vad/models';
import { ProducerContext, startRoles } from '@vad/runtime';
import { resolveFfmpegBinaries, synthesizeVideo } from '@vad/video';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatDuration } from '../format.js';
import { runUntilSignal } from '../run-until-signal.js';
import { sparkline } from '../sparkline.js';
import { waitForVideos } from '../wait-for-videos.js';

const REAL_MODEL = 'clip-vit-base-patch32';
const TEST_MODEL = 'vad-test-tiny';
const TEST_CAPTIONER = 'vad-test-captioner';
const TRUTH = { startMs: 20_000, endMs: 30_000 };

export function registerDemo(program: Command, context: () => CliContext): void {
  program
    .command('demo')
    .description('run a generated clip with a known incident through the whole pipeline and show what vad finds')
    .option('--serve', 'then start the API and keep it running, for the review app (Ctrl-C stops)')
    .action(async (options: { serve?: boolean }) => {
      const ctx = context();
      const binaries = resolveFfmpegBinaries(ctx.config.ffmpeg);
      const real =
        (await modelInstallState(REAL_MODEL, getModelSpec(REAL_MODEL), ctx.config.models.dir)).state === 'installed';
      const model = real ? REAL_MODEL : TEST_MODEL;
      if (!real) await buildModel(TEST_MODEL, ctx.config.models.dir);
      process.stderr.write(
        `model ${model}: ${getModelSpec(model).description} (from ${join(ctx.config.models.dir, model)})\n`,
      );
      // Captions: the configured captioner, or with the synthetic model its tiny synthetic captioner.
      const captioner = ctx.config.caption.captioner ?? (real ? undefined : TEST_CAPTIONER);
      if (captioner === TEST_CAPTIONER) await buildModel(TEST_CAPTIONER, ctx.config.models.dir);
      // Its own queues, so workers of another model running on this Redis never see the demo's jobs.
      const config: Config = {
        ...ctx.config,
        caption: { ...ctx.config.caption, captioner },
        queue: { ...ctx.config.queue, prefix: ctx.config.queue.prefix.replace(/\}$/, '-demo}') },
        models: { ...ctx.config.models, model },
        pipeline: { ...ctx.config.pipeline, model },
      };

      process.stderr.write(`database ${new URL(config.database.url).pathname.slice(1)}: migrating\n`);
      await migrateDatabase(config.database.url);
      const folder = join(config.storage.root, 'demo');
      await mkdir(folder, { recursive: true });
      const video = join(folder, 'loading-dock-night.mp4');
      process.stderr.write('generating a 60 s camera clip: a plain grey yard, fire-like light from 0:20 to 0:30\n');
      await synthesizeVideo(
        video,
        {
          durationS: 60,
          width: 640,
          height: 360,
          fps: 25,
          source: 'color=c=0x777777',
          // A fresh noise seed each run: a new video (not a duplicate of an earlier demo), scored afresh.
          filters: `noise=alls=8:allf=t:all_seed=${Math.floor(Math.random() * 1e9)},drawbox=x=0:y=0:w=iw:h=ih:color=orangered@0.9:t=fill:enable='between(t,20,30)'`,
        },
        binaries,
      );

      let reviewUrl: string | undefined;
      // The demo reports for itself; workers only speak up on errors.
      const logger = ctx.logger.child({}, { level: 'error' });
      const workers = await startRoles(['ingest', 'embed', 'aggregate'], config, logger);
      const producer = new ProducerContext(config, logger, { poolSize: 2, applicationName: 'vad-demo' });
      try {
        const recordedAt = new Date(Date.now() - 8 * 3600_000);
        const { videoId } = await producer.submit.submit({ path: video, camera: 'demo-loading-dock', recordedAt });
        const [outcome] = await waitForVideos(ctx, [videoId], ['loading-dock-night.mp4']);
        if (outcome?.status !== 'done') throw new Error(`the demo video failed: ${outcome?.error}`);

        const run = await ctx.repos.scoring.latestRun(videoId);
        if (!run) throw new Error('no scoring run was written');
        reviewUrl = `http://${ctx.config.api.host}:${ctx.config.api.port}/videos/${videoId}`;
        const clips = await ctx.repos.scoring.clipsOf(run.id);
        // The aggregate worker captions the events just after it saved them: give it a moment.
        let events = await ctx.repos.scoring.eventsOf(run.id);
        for (let waited = 0; captioner && waited < 20_000 && events.some((e) => !e.caption); waited += 250) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          events = await ctx.repos.scoring.eventsOf(run.id);
        }
        process.stdout.write(`\nvideo ${videoId} (${video})\n`);
        process.stdout.write(`anomaly  ${sparkline(clips.map((c) => c.anomalyScore))}\n\n`);
        process.stdout.write(`known incident: ${formatDuration(TRUTH.startMs)} – ${formatDuration(TRUTH.endMs)}\n`);
        for (const e of events) {
          const overlap = Math.max(0, Math.min(e.endMs, TRUTH.endMs) - Math.max(e.startMs, TRUTH.startMs));
          const union = Math.max(e.endMs, TRUTH.endMs) - Math.min(e.startMs, TRUTH.startMs);
          process.stdout.write(
            `found event:    ${formatDuration(e.startMs)} – ${formatDuration(e.endMs)}  ${e.label}  peak ${e.peakScore.toFixed(2)}  overlap (IoU) ${((overlap / union) * 100).toFixed(0)}%  thumbnail ${e.thumbnailPath}\n`,
          );
          if (e.caption) process.stdout.write(`  caption:      "${e.caption}" (${captioner})\n`);
        }
        if (events.length === 0) process.stdout.write('found no event\n');
        process.stdout.write(
          `\nmodel: ${model}${real ? '' : ' (synthetic)'}\nmore: npm run vad -- results ${videoId}\n`,
        );
        if (!real) {
          process.stdout.write(
            `\nThis run used ${TEST_MODEL}, vad's synthetic test model (not CLIP): it only tells colours apart` +
              `${captioner === TEST_CAPTIONER ? `, and ${TEST_CAPTIONER}, vad's tiny synthetic test captioner, which names colours` : ''}.\n` +
              `For real anomaly detection, ${installHint(REAL_MODEL, getModelSpec(REAL_MODEL))} (then run the demo again).\n`,
          );
        }
      } finally {
        try {
          await producer.close();
        } finally {
          await workers.close();
        }
      }
      if (!reviewUrl) return;
      if (!options.serve) {
        process.stdout.write(`\nreview app: ${reviewUrl}\n${apiHint(ctx.config)}`);
        return;
      }
      // A one-time admin token for this process when none is configured (shown once, kept nowhere).
      const demoToken = ctx.config.api.tokens.length === 0 ? createApiToken('demo', 'admin') : undefined;
      const apiConfig: Config = demoToken
        ? {
            ...ctx.config,
            api: { ...ctx.config.api, tokens: [...ctx.config.api.tokens, apiTokenEntrySchema.parse(demoToken.entry)] },
          }
        : ctx.config;
      const api = await startApi(apiConfig, ctx.logger.child({}, { level: 'warn' }));
      const url = `${api.url}${new URL(reviewUrl).pathname}`;
      process.stdout.write(
        `\nreview app: ${url}\n` +
          (demoToken
            ? `log in with this one-time admin token (valid while this runs): ${demoToken.token}\n`
            : 'log in with one of the tokens of VAD_API_TOKENS\n') +
          'Ctrl-C stops the API\n',
      );
      await runUntilSignal(ctx, ctx.logger, () => api.close());
    });
}

/** How to open the review app after the demo: start the API, with a token to log in with. */
function apiHint(config: Config): string {
  const start = 'npm run api (or npm run demo -- --serve, which runs the demo and then serves it)';
  if (config.api.tokens.length > 0)
    return `start the API to open it: ${start}; log in with a token of VAD_API_TOKENS\n`;
  return (
    `start the API to open it: ${start}\n` +
    'it needs a token to log in with: npm run vad -- tokens create me --scope admin, then add the entry to VAD_API_TOKENS\n'
  );
}
