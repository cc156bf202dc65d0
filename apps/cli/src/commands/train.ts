import { access } from 'node:fs/promises';
import { headFile, headNameProblem, resolveModelSpec } from '@vad/clip';
import {
  type EpochReport,
  headArtifacts,
  loadTrainingSet,
  readFrameLabels,
  readLabels,
  summarise,
  TRAINING_BACKENDS,
  TrainingRepository,
  trainHead,
  writeHead,
} from '@vad/training';
import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const optionsSchema = z.object({
  out: z.string().min(1),
  labels: z.string().min(1).optional(),
  frameLabels: z.string().min(1).optional(),
  useReviews: z.boolean().optional(),
  camera: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  seed: int(0, 2 ** 31 - 1),
  epochs: int(1, 10_000),
  batchVideos: int(1, 4096),
  validation: z.coerce.number().min(0).max(0.5),
  patience: int(1, 10_000),
  hidden: int(1, 1024),
  learningRate: z.coerce.number().gt(0).max(1),
  loss: z.enum(['topk', 'ranking']),
  backend: z.enum(TRAINING_BACKENDS as ['wasm', 'cpu']),
  force: z.boolean().optional(),
  json: z.boolean().optional(),
});

const FLAGS: Record<string, string> = {
  frameLabels: 'frame-labels',
  useReviews: 'use-reviews',
  batchVideos: 'batch-videos',
  learningRate: 'learning-rate',
};

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function epochLine(e: EpochReport): string {
  const auc = e.validationAuc === undefined ? '-' : e.validationAuc.toFixed(3);
  return `epoch ${String(e.epoch).padStart(3)}  loss ${e.loss.toFixed(4)}  validation AUC ${auc}  ${e.seconds.toFixed(1)} s${e.best ? '  best' : ''}\n`;
}

export function registerTrain(program: Command, context: () => CliContext): void {
  program
    .command('train')
    .description(
      'learn a temporal head from labelled videos, on their stored frame embeddings (multiple-instance learning ' +
        'from video labels, plus frame-level annotations and reviewed events), exported as ONNX to ' +
        '<VAD_MODEL_DIR>/heads/NAME.onnx for scoring mode learned (vad rescore --head NAME, VAD_SCORING_HEAD)',
    )
    .requiredOption('--out <name>', 'the head name: writes heads/NAME.onnx and its card heads/NAME.json')
    .option(
      '--labels <file>',
      'CSV video,label[,class]: label normal|anomalous; video is the source file base name, with or without extension, any case',
    )
    .option(
      '--frame-labels <file>',
      'CSV video,start_s,end_s[,class]: anomalous intervals (the rest of the video normal)',
    )
    .option(
      '--use-reviews',
      'reviewed events as labels: confirmed ones anomalous (their label the class), false alarms normal',
    )
    .option('--camera <name>', 'match video names among this camera’s videos only')
    .option('--model <name>', 'embedding model whose frame vectors to train on (default VAD_MODEL)')
    .option('--seed <n>', 'seeds initialisation, split and batch order: the same seed, the same head', '1')
    .option('--epochs <n>', 'at most this many passes over the training videos', '30')
    .option('--batch-videos <n>', 'videos per optimiser step', '8')
    .option('--validation <fraction>', 'share of videos held out for early stopping on validation AUC (0: none)', '0.2')
    .option('--patience <epochs>', 'stop after this many epochs without a better validation AUC', '5')
    .option('--hidden <n>', 'width of the head (projection and convolution channels)', '32')
    .option('--learning-rate <x>', "Adam's learning rate", '0.001')
    .option('--loss <name>', 'topk (top-k MIL, binary cross-entropy) | ranking (Sultani et al. 2018)', 'topk')
    .option('--backend <name>', 'tfjs backend: wasm | cpu', 'wasm')
    .option('--force', 'replace a head of the same name')
    .option('--json', 'print the head’s card as JSON instead of the summary')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const key = String(issue?.path[0] ?? '');
        program.error(`error: option --${FLAGS[key] ?? key}: ${issue?.message}`, { exitCode: 2 });
      }
      const options = parsed.data;
      if (!options.labels && !options.frameLabels && !options.useReviews)
        program.error('error: give labels: --labels, --frame-labels and/or --use-reviews', { exitCode: 2 });
      const nameProblem = headNameProblem(options.out);
      if (nameProblem) program.error(`error: option --out: ${nameProblem}`, { exitCode: 2 });

      const ctx = context();
      const modelDir = ctx.config.models.dir;
      const model = options.model ?? ctx.config.models.model;
      const file = headFile(modelDir, options.out);
      // Checked before any work: an existing head is never replaced by accident.
      if (!options.force && (await exists(file)))
        throw new Error(`a head named ${options.out} exists already (${file}): choose another --out, or --force`);
      let embeddingSize: number | undefined;
      try {
        embeddingSize = resolveModelSpec(model, modelDir).embeddingSize;
      } catch {
        embeddingSize = undefined;
      }
      const log = (line: string) => {
        if (!options.json) process.stderr.write(line);
      };

      const labels = options.labels ? await readLabels(options.labels) : undefined;
      const frameLabels = options.frameLabels ? await readFrameLabels(options.frameLabels) : undefined;
      const set = await loadTrainingSet(
        {
          repository: new TrainingRepository(ctx.db.db),
          frameEmbeddings: ctx.repos.frameEmbeddings,
          reviews: ctx.repos.reviews,
        },
        {
          model,
          embeddingSize,
          labels,
          frameLabels,
          useReviews: options.useReviews,
          camera: options.camera,
          onVideo: (done, total) => {
            if (done === total || done % 50 === 0) log(`read the clip features of ${done}/${total} videos\n`);
          },
        },
      );
      const data = summarise(set);
      log(
        `training on ${data.videos} videos (${data.anomalousVideos} anomalous, ${data.normalVideos} normal` +
          `${data.clipLabelledVideos ? `, ${data.clipLabelledVideos} with reviewed clips only` : ''}), ` +
          `${data.clips} clips of ${set.embeddingSize} dimensions (${model}); classes: ${set.classes.join(', ')}\n`,
      );
      const result = await trainHead(set, {
        seed: options.seed,
        epochs: options.epochs,
        batchVideos: options.batchVideos,
        validationFraction: options.validation,
        patience: options.patience,
        hidden: options.hidden,
        learningRate: options.learningRate,
        loss: options.loss,
        backend: options.backend,
        onEpoch: (e) => log(epochLine(e)),
      });
      const { onnx, card } = headArtifacts(set, result);
      const written = await writeHead(modelDir, options.out, onnx, card, { force: options.force });
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ ...card, name: written.name, sha256: written.sha256, file: written.file }, null, 2)}\n`,
        );
        return;
      }
      const auc = result.validation.auc === undefined ? 'none' : result.validation.auc.toFixed(3);
      process.stdout.write(
        `wrote head ${written.name}: ${written.file} (sha256 ${written.sha256.slice(0, 16)}…), card ${written.card}\n` +
          `best epoch ${result.bestEpoch} of ${result.epochs.length}; validation AUC ${auc} ` +
          `(${result.validation.kind}, ${result.validation.videos} videos); ${result.seconds.toFixed(1)} s\n` +
          `use it: vad rescore --head ${written.name} <videos…> (or --camera NAME), ` +
          `or VAD_SCORING_MODE=learned VAD_SCORING_HEAD=${written.file} on the aggregate workers\n`,
      );
    });
}
