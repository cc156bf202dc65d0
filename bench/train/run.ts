/**
 * bench/train: how long `vad train` takes on a million clip features.
 *
 * Builds a synthetic training set in memory (no database: the training loop
 * is what is measured, reading features is per video and streams) laid out
 * like footage: 1,000 videos × 1,000 clips of 512-d L2-normalised features
 * (one Float32Array per video, 2 GB in all), each video a scene with noise
 * and drift, half of them with an anomalous interval, two anomaly classes.
 * Then trains the head on each tfjs backend asked for, with the defaults of
 * `vad train` (top-k MIL, batch 8 videos, hidden 32, 20% validation),
 * reporting seconds per epoch (one pass over 800,000 training clips, then
 * validation on 200,000) and in all, and the validation AUC.
 *
 *   npm run train -w @vad/bench -- [--videos 1000] [--clips 1000] [--dim 512] [--epochs 3] [--patience N]
 *                                   [--backends wasm,cpu] [--cpu-videos 200] [--out results/train-cpu.md]
 *
 * `--cpu-videos`: the plain JavaScript backend is measured on that many
 * videos (same layout; at least 160 training videos, so an epoch is one
 * pass) and scaled to the full set, as a full epoch of it takes long.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EpochReport, syntheticTrainingSet, type TrainingBackend, trainHead } from '@vad/training';

const { values: args } = parseArgs({
  options: {
    videos: { type: 'string', default: '1000' },
    clips: { type: 'string', default: '1000' },
    dim: { type: 'string', default: '512' },
    epochs: { type: 'string', default: '3' },
    /** Early stopping as vad train does it; default: none (every epoch runs). */
    patience: { type: 'string' },
    backends: { type: 'string', default: 'wasm,cpu' },
    'cpu-videos': { type: 'string', default: '200' },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'train-cpu.md') },
  },
});
const videos = Number(args.videos);
const clips = Number(args.clips);
const dim = Number(args.dim);
const epochs = Number(args.epochs);
const backends = (args.backends ?? '').split(',').filter(Boolean) as TrainingBackend[];

interface Row {
  backend: TrainingBackend;
  videos: number;
  clips: number;
  epochs: EpochReport[];
  seconds: number;
  auc: number | undefined;
  scaled: number;
}

const started = performance.now();
console.log(`building ${videos} videos × ${clips} clips × ${dim} dimensions …`);
const full = syntheticTrainingSet({ videos, clips, embeddingSize: dim, seed: 1, strength: 0.6 });
const buildSeconds = (performance.now() - started) / 1000;
console.log(
  `built in ${buildSeconds.toFixed(1)} s (${((videos * clips * dim * 4) / 2 ** 30).toFixed(2)} GiB of features)`,
);

const rows: Row[] = [];
for (const backend of backends) {
  const count = backend === 'cpu' ? Math.min(videos, Number(args['cpu-videos'])) : videos;
  const set = count === videos ? full : { ...full, videos: full.videos.slice(0, count) };
  console.log(`training on ${backend}: ${count} videos, ${count * clips} clips, ${epochs} epochs`);
  const result = await trainHead(set, {
    backend,
    seed: 1,
    epochs,
    patience: args.patience ? Number(args.patience) : epochs,
    onEpoch: (e) =>
      console.log(
        `  epoch ${e.epoch}: ${e.seconds.toFixed(1)} s, loss ${e.loss.toFixed(4)}, validation AUC ${e.validationAuc?.toFixed(3)}`,
      ),
  });
  const perEpoch = result.epochs.reduce((s, e) => s + e.seconds, 0) / result.epochs.length;
  rows.push({
    backend,
    videos: count,
    clips: count * clips,
    epochs: result.epochs,
    seconds: result.seconds,
    auc: result.validation.auc,
    scaled: perEpoch * (videos / count),
  });
}

const cpu = cpus();
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim()}, Node ${process.version}, ` +
    `@tensorflow/tfjs 4.22.0; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (the machine is shared: other work ran beside it).`,
  `Synthetic set: ${videos} videos × ${clips} clips × ${dim}-d (${((videos * clips * dim * 4) / 2 ** 30).toFixed(2)} GiB), built in ${buildSeconds.toFixed(0)} s; ` +
    'training with the defaults of vad train (top-k MIL, batch 8 videos, hidden 32, 20% of the videos for validation).',
  '',
  '| backend | videos measured | clips | seconds per epoch | per epoch at the full set | epochs | total (s) | validation AUC |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.backend} | ${r.videos} | ${r.clips.toLocaleString('en')} | ${r.epochs.map((e) => e.seconds.toFixed(1)).join(', ')} | ` +
      `${r.scaled.toFixed(0)} s | ${r.epochs.length} | ${r.seconds.toFixed(0)} | ${r.auc?.toFixed(3) ?? '-'} |`,
  ),
  '',
];
await writeFile(args.out as string, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
