import {
  ClipTextEncoder,
  createSession,
  getModelSpec,
  imageFileToRgb,
  imageIo,
  imageTensor,
  installHint,
  normalizedRows,
  resolveModelPaths,
  resolveModelSpec,
} from '@vad/clip';
import { dot, softmax } from '@vad/scoring';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** Softmax of logitScale × cosine, as CLIP's zero-shot classification. */
export function zeroShot(image: Float32Array, labels: Float32Array[], logitScale: number): number[] {
  return softmax(labels.map((label) => logitScale * dot(image, label)));
}

export function registerClassify(program: Command, context: () => CliContext): void {
  program
    .command('classify')
    .description('zero-shot image classification: which of the labels fits the image best (top 5)')
    .argument('<image>', 'image file (JPEG, PNG, WebP…)')
    .requiredOption('--labels <list>', 'comma-separated labels, e.g. "a cat,a dog,a car"')
    .option('--model <name>', 'model (default: VAD_MODEL)')
    .option('--template <text>', 'prompt template; {} is replaced by the label', 'a photo of {}')
    .action(async (image: string, options: { labels: string; model?: string; template: string }) => {
      const ctx = context();
      const name = options.model ?? ctx.config.models.model;
      const spec = resolveModelSpec(name, ctx.config.models.dir);
      const labels = options.labels
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean);
      if (labels.length < 2) program.error('error: --labels needs at least two labels', { exitCode: 2 });
      if (!spec.files.text) program.error(`error: model ${name} has no text encoder`, { exitCode: 2 });
      const paths = resolveModelPaths(ctx.config.models.dir, name, spec, ['image', 'text']);
      const sessionOptions = {
        provider: ctx.config.embed.provider,
        threads: ctx.config.embed.threads,
        graphOptimization: ctx.config.embed.graphOptimization,
      };
      const text = await ClipTextEncoder.load(paths, spec, sessionOptions);
      const labelVectors = await text.encode(labels.map((l) => options.template.replace('{}', l)));
      const { session } = await createSession(paths.image, sessionOptions);
      const io = imageIo(session, spec.tensors.image, spec.embeddingSize);
      const rgb = await imageFileToRgb(image, spec.inputSize);
      const result = await session.run({
        [io.input]: imageTensor(io.format, rgb, 1, spec.inputSize, spec.mean, spec.std),
      });
      const output = result[io.output];
      if (!output) throw new Error(`the image encoder gave no ${io.output}`);
      const [vector] = normalizedRows(output.data as Float32Array, 1, output.dims.at(-1) ?? io.embeddingSize);
      const probabilities = zeroShot(vector as Float32Array, labelVectors, spec.logitScale);
      const ranked = labels.map((label, i) => ({ label, p: probabilities[i] ?? 0 })).sort((a, b) => b.p - a.p);
      const width = Math.max(...ranked.map((r) => r.label.length));
      for (const { label, p } of ranked.slice(0, 5)) {
        process.stdout.write(
          `${label.padEnd(width)}  ${(p * 100).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(p * 30))}\n`,
        );
      }
      if (spec.synthetic) {
        process.stderr.write(
          `note: ${name} is a synthetic test model, not CLIP; ${installHint('clip-vit-base-patch32', getModelSpec('clip-vit-base-patch32'))}\n`,
        );
      }
      await text.close();
      await session.release();
    });
}
