import {
  addModel,
  describeFileCheck,
  describeFold,
  fetchModel,
  foldInstalledModel,
  installHint,
  LOCAL_SPEC_FILE,
  listLocalModels,
  loadManifest,
  ModelFetchError,
  type ModelSpec,
  modelInstallState,
  repairHint,
  resolveModelSpec,
  verifyModel,
} from '@vad/clip';
import { BUILT_MODELS, type BuiltModelName, buildModel } from '@vad/models';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { formatBytes, table } from '../format.js';

/** Files at least this big get a progress bar while hashed (on a terminal). */
const PROGRESS_FROM_BYTES = 64 * 1024 * 1024;

/** Every model vad knows: the manifest's, then those added in the model folder (with why a spec is unreadable). */
function knownModels(dir: string): [name: string, spec: ModelSpec | undefined, error: string | undefined][] {
  return [
    ...Object.entries(loadManifest().models).map(([name, spec]): [string, ModelSpec, undefined] => [
      name,
      spec,
      undefined,
    ]),
    ...listLocalModels(dir).map((m): [string, ModelSpec | undefined, string | undefined] => [m.name, m.spec, m.error]),
  ];
}

function kindOf(spec: ModelSpec): string {
  switch (spec.source.type) {
    case 'built':
      return 'synthetic (built)';
    case 'local':
      return spec.source.linked ? 'added (linked)' : 'added';
    default:
      return 'download';
  }
}

const STATE_TEXT: Record<string, string> = { 'wrong-size': 'wrong size' };

function triple(flag: string) {
  return (value: string): [number, number, number] => {
    const parts = value.split(',').map((v) => Number(v.trim()));
    if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v)))
      throw new InvalidArgumentError(`${flag} takes three numbers, r,g,b`);
    return parts as [number, number, number];
  };
}

function positive(what: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${what} must be a positive ${integer ? 'integer' : 'number'}`);
    return n;
  };
}

export function registerModels(program: Command, context: () => CliContext): void {
  const models = program
    .command('models')
    .description('image/text encoders: list, download, build, verify, add your own');

  // Models are named from the manifest or from those added with `vad models add` (resolveModelSpec).
  // Failures are thrown: main.ts prints `error: <message>` and exits 1, without the usage hint that
  // program.error() adds (an unknown model, an unreachable host or a refused file are no usage mistakes).

  models
    .command('list')
    .description(
      'the models in models/manifest.json and those added with `vad models add`, and whether each is installed',
    )
    .action(async () => {
      const ctx = context();
      const dir = ctx.config.models.dir;
      const rows = [['name', 'kind', 'state', 'size', 'embedding', 'description']];
      const entries = knownModels(dir);
      const wrong: string[] = [];
      for (const [name, spec, error] of entries) {
        const current = name === ctx.config.models.model ? ' (VAD_MODEL)' : '';
        if (!spec) {
          rows.push([`${name}${current}`, 'added', 'invalid spec', '-', '-', error ?? '']);
          continue;
        }
        const { state, bytes } = await modelInstallState(name, spec, dir);
        if (state === 'wrong-size') wrong.push(name);
        rows.push([
          `${name}${current}`,
          kindOf(spec),
          STATE_TEXT[state] ?? state,
          bytes ? formatBytes(bytes) : '-',
          `${spec.embeddingSize}-d`,
          spec.description,
        ]);
      }
      process.stdout.write(`${table(rows)}\nmodel folder: ${dir}\n`);
      for (const name of wrong) {
        process.stdout.write(
          `${name}: a file has the wrong size (vad models verify ${name} shows which); ${repairHint(name, resolveModelSpec(name, dir))}\n`,
        );
      }
    });

  models
    .command('fetch')
    .description('download a model into the model folder (resumes, verifies size and pinned sha256)')
    .argument('<name>', 'model name from `vad models list`')
    .option('--force', 'download again even if installed')
    .action(async (name: string, options: { force?: boolean }) => {
      const ctx = context();
      const spec = resolveModelSpec(name, ctx.config.models.dir);
      if (spec.source.type === 'built') program.error(`error: model ${name} is synthetic; ${installHint(name, spec)}`);
      if (spec.source.type === 'local') {
        throw new Error(
          `model ${name} was added from local files, there is nothing to download; check it with vad models verify ${name}`,
        );
      }
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
          if (f.fold) process.stdout.write(`${describeFold(f.fold)}\n`);
        }
        process.stdout.write(`model ${name} installed in ${ctx.config.models.dir}\n`);
      } catch (error) {
        if (current) bar.stop();
        if (error instanceof ModelFetchError || error instanceof TypeError) {
          throw new Error(`fetching ${name} failed: ${error.message}`, { cause: error });
        }
        throw error;
      }
    });

  models
    .command('verify')
    .description("check each file of the models against the manifest's (or the added model's) sizes and sha256")
    .argument('[names...]', 'models to check (default: every model with files in the model folder)')
    .action(async (names: string[]) => {
      const ctx = context();
      const dir = ctx.config.models.dir;
      let targets: [string, ModelSpec][];
      const invalid: [string, string][] = [];
      if (names.length) {
        targets = names.map((name) => [name, resolveModelSpec(name, dir)]);
      } else {
        targets = [];
        for (const [name, spec, error] of knownModels(dir)) {
          if (!spec) invalid.push([name, error ?? 'invalid']);
          else if ((await modelInstallState(name, spec, dir)).state !== 'missing') targets.push([name, spec]);
        }
        if (!targets.length && !invalid.length) {
          process.stdout.write(`no models installed in ${dir}\n`);
          return;
        }
      }
      const bar = new cliProgress.SingleBar(
        { format: 'sha256 {file} {bar} {percentage}%', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let barFile: string | undefined;
      const stopBar = () => {
        if (barFile !== undefined) bar.stop();
        barFile = undefined;
      };
      const rows: string[][] = [];
      const broken: { name: string; spec: ModelSpec; repair: boolean }[] = [];
      for (const [name, spec] of targets) {
        const result = await verifyModel(name, spec, dir, {
          onProgress: ({ file, bytes, total }) => {
            if (!process.stderr.isTTY || total < PROGRESS_FROM_BYTES) return;
            if (barFile !== file) {
              stopBar();
              barFile = file;
              bar.start(total, 0, { file });
            }
            bar.update(bytes);
          },
        });
        stopBar();
        for (const file of result.files) rows.push([name, file.path, describeFileCheck(file)]);
        if (!result.ok) {
          const repair = result.files.some((f) => f.status === 'wrong-size' || f.status === 'hash-mismatch');
          broken.push({ name, spec, repair });
        }
      }
      for (const [name, error] of invalid) rows.push([name, LOCAL_SPEC_FILE, error]);
      process.stdout.write(`${table(rows)}\n`);
      for (const { name, spec, repair } of broken) {
        process.stdout.write(`${name}: ${repair ? repairHint(name, spec) : installHint(name, spec)}\n`);
      }
      if (broken.length || invalid.length) process.exitCode = 1;
    });

  models
    .command('add')
    .description('register your own CLIP-style ONNX export (e.g. fine-tuned on your footage) as a model')
    .argument('<name>', 'name for the model (letters, digits, . _ -), used as VAD_MODEL')
    .requiredOption(
      '--image <file>',
      'ONNX image encoder: pixel_values [batch,3,H,W] float32 → image embeddings (its preprocessing is folded into a copy)',
    )
    .option('--text <file>', 'ONNX text encoder: input_ids (+ attention_mask) → text embeddings; needs --tokenizer')
    .option('--tokenizer <dir>', "folder with the model's tokenizer.json (and tokenizer_config.json)")
    .option(
      '--input-size <n>',
      "side of the square input (default: the export's, else 224)",
      positive('--input-size', true),
    )
    .option('--mean <r,g,b>', 'normalisation mean (default: OpenAI CLIP)', triple('--mean'))
    .option('--std <r,g,b>', 'normalisation std (default: OpenAI CLIP)', triple('--std'))
    .option(
      '--logit-scale <x>',
      'softmax temperature for prompts (default: 100, CLIP’s)',
      positive('--logit-scale', false),
    )
    .option(
      '--context-length <n>',
      "tokens per text (default: the export's, else 77)",
      positive('--context-length', true),
    )
    .option('--description <text>', 'what the model is, shown by `vad models list`')
    .option('--link', 'symlink the files instead of copying them')
    .option('--force', 'replace a model added before under this name')
    .action(
      async (
        name: string,
        options: {
          image: string;
          text?: string;
          tokenizer?: string;
          inputSize?: number;
          mean?: [number, number, number];
          std?: [number, number, number];
          logitScale?: number;
          contextLength?: number;
          description?: string;
          link?: boolean;
          force?: boolean;
        },
      ) => {
        const ctx = context();
        const added = await addModel({ name, modelDir: ctx.config.models.dir, ...options });
        const { spec, image, text } = added;
        const rows = added.files.map((f) => [
          f.role,
          f.path,
          formatBytes(f.bytes),
          `sha256 ${f.sha256.slice(0, 16)}…`,
          options.link ? `→ ${f.source}` : `from ${f.source}`,
        ]);
        const lines = [
          `added ${name} in ${added.folder} (${options.link ? 'linked' : 'copied'})`,
          table(rows),
          `image: ${image.input} ${image.format === 'uint8-nhwc' ? `uint8 [batch, ${spec.inputSize}, ${spec.inputSize}, 3]` : `[batch, 3, ${spec.inputSize}, ${spec.inputSize}]`} → ${image.output} (${image.embeddingSize}-d); mean ${spec.mean.join(',')}, std ${spec.std.join(',')}`,
          describeFold(added.fold),
          text
            ? `text: ${text.ids}${text.mask ? ` + ${text.mask.name}` : ''} (${text.idsType}, ${text.contextLength} tokens) → ${text.output} (${text.embeddingSize}-d); logit scale ${spec.logitScale}`
            : 'text: none (image only: it embeds frames but cannot score prompts)',
          `check it with: vad models verify ${name}; use it with: VAD_MODEL=${name}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );

  models
    .command('fold')
    .description(
      "fold the frame preprocessing (÷255, mean/std, channels first) into the image encoder's graph: writes <file>.vad-folded.onnx beside it, which takes the frames' uint8 RGB bytes; the embed worker loads it",
    )
    .argument('<names...>', 'installed models (fetched or added)')
    .option('--force', 'fold again even if an up-to-date folded file is there')
    .option('--no-check', 'skip comparing the folded model with the original on two test frames')
    .action(async (names: string[], options: { force?: boolean; check: boolean }) => {
      const dir = context().config.models.dir;
      let failed = false;
      for (const name of names) {
        const outcome = await foldInstalledModel(name, resolveModelSpec(name, dir), dir, options);
        process.stdout.write(`${name}: ${describeFold(outcome)}\n`);
        if (outcome.status === 'failed') failed = true;
      }
      if (failed) process.exitCode = 1;
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
