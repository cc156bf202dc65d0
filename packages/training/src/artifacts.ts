import type { HeadCardInput } from './head-files.js';
import { exportHeadOnnx } from './onnx-export.js';
import type { TrainResult } from './train.js';
import { summarise, type TrainingSet } from './training-set.js';

/**
 * The ONNX file and the card of a trained head. The file carries what the
 * scorer needs (classes, D, model) and what identifies the training (seed,
 * data summary, validation AUC); the card adds the options, each epoch and
 * the timing. Only the card has dates, so the same training gives the same file.
 */
export function headArtifacts(set: TrainingSet, result: TrainResult): { onnx: Uint8Array; card: HeadCardInput } {
  const data = summarise(set);
  const validation = { kind: result.validation.kind, auc: result.validation.auc, videos: result.validation.videos };
  const onnx = exportHeadOnnx(result.weights, {
    classes: set.classes,
    namedClasses: set.namedClasses,
    model: set.model,
    seed: result.options.seed,
    data,
    validation,
    extra: {
      'vad.loss': result.options.loss,
      'vad.best_epoch': String(result.bestEpoch),
    },
  });
  const card = {
    model: set.model,
    embeddingSize: set.embeddingSize,
    classes: set.classes,
    namedClasses: set.namedClasses,
    data,
    validation,
    bestEpoch: result.bestEpoch,
    options: result.options,
    epochs: result.epochs,
    split: { train: result.split.train.length, validation: result.split.validation.length },
    trainingSeconds: Number(result.seconds.toFixed(2)),
  };
  return { onnx, card };
}
