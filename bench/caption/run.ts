/**
 * bench/caption: what a caption costs per event on this machine, with vad's
 * benchmark-size captioner (vad-bench-captioner: a ViT-B/32-architecture
 * encoder and a GPT-2-small-architecture decoder with cross-attention and a
 * KV cache, seeded random weights — not a trained model). Random weights
 * never end a sentence, so every caption runs to maxNewTokens (16): the
 * worst case of a real captioner of that size (vit-gpt2's captions are
 * 8 to 12 tokens).
 *
 * Side by side: ImageCaptioner.caption per event (greedy, batch 1 and 4;
 * beam search, 3 beams), and bare onnxruntime session.run of the encoder
 * and of one decoder step with a 16-token cache, the floor a caption is made of
 * (one encoder run + 16 decoder steps).
 *
 *   npm run caption -w @vad/bench -- [--events 8]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageCaptioner } from '@vad/caption';
import { buildModel } from '@vad/models';
import * as ort from 'onnxruntime-node';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '8' },
    'model-dir': { type: 'string', default: join(import.meta.dirname, '..', '.cache', 'models') },
    out: { type: 'string', default: join(import.meta.dirname, '..', 'results', 'caption.md') },
  },
});
const EVENTS = Number(args.events);
const NAME = 'vad-bench-captioner';
const modelDir = args['model-dir'];
const log = (line: string) => process.stderr.write(`${line}\n`);

await mkdir(modelDir, { recursive: true });
log(`building ${NAME} into ${modelDir}…`);
await buildModel(NAME, modelDir);
const session = { provider: 'cpu' as const, threads: 0, graphOptimization: 'all' as const };
const loadStart = performance.now();
const captioner = await ImageCaptioner.load(modelDir, NAME, session);
const loadMs = performance.now() - loadStart;
const size = captioner.spec.inputSize;
/** Event peak frames: different colours, as different events look. */
const frames = Array.from({ length: EVENTS }, (_, i) => {
  const rgb = new Uint8Array(size * size * 3);
  for (let p = 0; p < rgb.length; p += 3) rgb.set([(i * 53) % 256, (p / 3) % 256, (i * 97) % 256], p);
  return rgb;
});

const perEvent = async (batchSize: number, numBeams = 1) => {
  await captioner.caption(frames.slice(0, batchSize), { batchSize, numBeams }); // warm-up
  const start = performance.now();
  const captions = await captioner.caption(frames, { batchSize, numBeams });
  const ms = (performance.now() - start) / EVENTS;
  return { ms, tokens: captions.reduce((n, c) => n + c.tokenIds.length, 0) / EVENTS };
};
const greedy1 = await perEvent(1);
const greedy4 = await perEvent(4);
const beam3 = await perEvent(1, 3);
await captioner.close();

// The floor: bare session.run of the encoder, and of one decoder step with the KV cache.
const folder = join(modelDir, NAME, 'onnx');
const encoder = await ort.InferenceSession.create(join(folder, 'encoder_model.onnx'), {
  graphOptimizationLevel: 'all',
});
const pixels = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.1), [1, 3, size, size]);
const time = async (runs: number, fn: () => Promise<unknown>) => {
  await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
};
const encoded = (await encoder.run({ [encoder.inputNames[0] as string]: pixels })) as Record<string, ort.Tensor>;
const hidden = encoded[encoder.outputNames[0] as string] as ort.Tensor;
const encoderMs = await time(5, () => encoder.run({ [encoder.inputNames[0] as string]: pixels }));
const step = await ort.InferenceSession.create(join(folder, 'decoder_with_past_model.onnx'), {
  graphOptimizationLevel: 'all',
});
const feeds: Record<string, ort.Tensor> = {};
for (const name of step.inputNames) {
  if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from([5n]), [1, 1]);
  else if (name === 'encoder_hidden_states') feeds[name] = hidden;
  else if (name.startsWith('past_key_values'))
    feeds[name] = new ort.Tensor('float32', new Float32Array(12 * 16 * 64), [1, 12, 16, 64]);
  else if (name.includes('attention_mask'))
    feeds[name] = new ort.Tensor('int64', new BigInt64Array(17).fill(1n), [1, 17]);
  else throw new Error(`decoder input ${name} is not fed by this benchmark`);
}
const stepMs = await time(10, () => step.run(feeds));
const floorMs = encoderMs + 16 * stepMs;

const lines = [
  '# Caption benchmark',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, onnxruntime-node CPU. ` +
    `Captioner: ${NAME} (vad's benchmark captioner, random weights: every caption is 16 tokens). ` +
    `\`npm run caption -w @vad/bench\`; loaded in ${(loadMs / 1000).toFixed(1)} s.`,
  '',
  '| | per event | tokens |',
  '|---|---|---|',
  `| ImageCaptioner, greedy, one event at a time | ${greedy1.ms.toFixed(0)} ms | ${greedy1.tokens.toFixed(0)} |`,
  `| ImageCaptioner, greedy, 4 events a batch | ${greedy4.ms.toFixed(0)} ms | ${greedy4.tokens.toFixed(0)} |`,
  `| ImageCaptioner, beam search (3 beams) | ${beam3.ms.toFixed(0)} ms | ${beam3.tokens.toFixed(0)} |`,
  `| floor: bare session.run, encoder (${encoderMs.toFixed(0)} ms) + 16 decoder steps (${stepMs.toFixed(1)} ms each) | ${floorMs.toFixed(0)} ms | 16 |`,
  '',
  `At the default VAD_CAPTION_MAX_PER_DAY (200), captions cost at most ${((200 * greedy1.ms) / 60_000).toFixed(1)} minutes of one worker a day here.`,
];
await writeFile(args.out, `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
