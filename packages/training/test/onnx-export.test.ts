import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearnedHead } from '@vad/clip';
import { SeededRandom } from '@vad/models';
import { afterAll, describe, expect, it } from 'vitest';
import { exportHeadOnnx, HeadModel, initialWeights, predictVideos, useBackend } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'vad-head-export-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ONNX export', () => {
  it('gives the same scores and logits in onnxruntime as the tfjs model, for any number of clips', async () => {
    await useBackend('wasm');
    const shape = { embeddingSize: 24, projection: 8, hidden: 6, classes: 4 };
    const weights = initialWeights(shape, 11);
    // Non-zero biases, so a misplaced bias shows.
    const random = new SeededRandom(5);
    weights.convBias = random.normal(shape.hidden, 0.3);
    weights.outputBias = random.normal(1 + shape.classes, 0.3);
    const file = join(dir, 'head.onnx');
    const classes = ['Normal', 'Fire', 'Fight', 'Flood'];
    await writeFile(
      file,
      exportHeadOnnx(weights, {
        classes,
        namedClasses: true,
        model: 'test-model',
        seed: 11,
        data: { videos: 0 },
        validation: { kind: 'video', auc: 0.9, videos: 3 },
      }),
    );
    const head = await LearnedHead.load(file);
    expect(head.info).toMatchObject({ classes, namedClasses: true, embeddingSize: 24, model: 'test-model' });
    expect(head.info.metadata['vad.seed']).toBe('11');
    expect(head.info.metadata['vad.validation_auc']).toBe('0.9');
    const model = new HeadModel(weights);
    for (const clips of [1, 2, 3, 17]) {
      const features = random.normal(clips * shape.embeddingSize, 0.5);
      const [expected] = predictVideos(model, [{ features, clips }]);
      const got = await head.run(
        Array.from({ length: clips }, (_, c) => features.slice(c * shape.embeddingSize, (c + 1) * shape.embeddingSize)),
      );
      expect(got.scores).toHaveLength(clips);
      for (let c = 0; c < clips; c++) {
        expect(got.scores[c]).toBeCloseTo(expected?.scores[c] as number, 5);
        for (let k = 0; k < shape.classes; k++)
          expect(got.logits[c]?.[k]).toBeCloseTo(expected?.logits[c * shape.classes + k] as number, 4);
      }
    }
    model.dispose();
    await head.close();
  });

  it('refuses a file that is not a learned head, saying why', async () => {
    const file = join(dir, 'not-a-head.onnx');
    await writeFile(file, 'hello');
    await expect(LearnedHead.load(file)).rejects.toThrow(/not an ONNX model|not a vad learned head/);
  });
});
