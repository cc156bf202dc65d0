import { fetchModel, getModelSpec, installHint, loadManifest, ModelFetchError, modelInstallState } from '@vad/clip';
import { BUILT_MODELS, type BuiltModelName, buildModel } from '@vad/models';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatBytes, table } from '../format.js';

export function registerModels(program: Command, context: () => CliContext): void {
  const models = program.command('models').description('image/text encoders: list, download, build');

  models
    .command('list')
    .description('the models in models/manifest.json and whether each is installed')
    .action(async () => {
      const ctx = context();
      const rows = [['name', 'kind', 'state', 'size', 'embedding', 'description']];
      for (const [name, spec] of Object.entries(loadManifest().models)) {
        const { state, bytes } = await modelInstallState(name, spec, ctx.config.models.dir);
        const current = name === ctx.config.models.model ? ' (VAD_MODEL)' : '';
        rows.push([
          `${name}${current}`,
          spec.synthetic ? 'synthetic (built)' : 'download',
          state,
          bytes ? formatBytes(bytes) : '-',
          `${spec.embeddingSize}-d`,
          spec.description,
        ]);
      }
      process.stdout.write(`${table(rows)}\nmodel folder: ${ctx.config.models.dir}\n`);
    });

  models
    .command('fetch')
    .description('download a model into the model folder (resumes, verifies size and pinned sha256)')
    .argument('<name>', 'model name from `vad models list`')
    .option('--force', 'download again even if installed')
    .action(async (name: string, options: { force?: boolean }) => {
      const ctx = context();
      const spec = getModelSpec(name);
      if (spec.source.type === 'built') program.error(`error: model ${name} is synthetic; ${installHint(name, spec)}`);
      const bar = new cliProgress.SingleBar(
        { format: '{file} {bar} {percentage}% | {value}/{total} MB', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let current = '';
      try {
        const files = await fetchModel(name, spec, ctx.config.models.dir, {
          force: options.force,
          onProgress: ({ file, bytes, total }) => {
            if (!process.stderr.isTTY) return;
            if (file !== current) {
              if (current) bar.stop();
              current = file;
              bar.start(Math.round((total ?? 0) / 1e6), 0, { file });
            }
            bar.update(Math.round(bytes / 1e6));
          },
        });
        if (current) bar.stop();
        for (const f of files) {
          process.stdout.write(`${f.skipped ? 'present ' : 'fetched '} ${f.path} (${formatBytes(f.bytes)})\n`);
        }
        process.stdout.write(`model ${name} installed in ${ctx.config.models.dir}\n`);
      } catch (error) {
        if (current) bar.stop();
        if (error instanceof ModelFetchError || error instanceof TypeError) {
          program.error(`error: fetching ${name} failed: ${error.message}`, { exitCode: 1 });
        }
        throw error;
      }
    });

  models
    .command('build')
    .description(`build one of vad's synthetic models (${BUILT_MODELS.join(', ')}); never CLIP`)
    .argument('<name>', BUILT_MODELS.join(' | '))
    .action(async (name: string) => {
      if (!BUILT_MODELS.includes(name as BuiltModelName)) {
        program.error(`error: ${name} is not a buildable model; choose ${BUILT_MODELS.join(' or ')}`, { exitCode: 2 });
      }
      const files = await buildModel(name as BuiltModelName, context().config.models.dir);
      for (const f of files) process.stdout.write(`built ${f.path} (${formatBytes(f.bytes)})\n`);
    });
}
