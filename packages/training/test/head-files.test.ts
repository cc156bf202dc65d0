import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportHeadOnnx, initialWeights, installHead, writeHead } from '../src/index.js';

const dir = await mkdtemp(join(tmpdir(), 'vad-heads-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const head = (seed: number) =>
  exportHeadOnnx(initialWeights({ embeddingSize: 8, projection: 4, hidden: 4, classes: 2 }, seed), {
    classes: ['Normal', 'Anomaly'],
    namedClasses: false,
    model: 'vad-test-tiny',
    seed,
    data: {},
    validation: { kind: 'none', auc: undefined, videos: 0 },
  });
const card = { model: 'vad-test-tiny', embeddingSize: 8, classes: ['Normal', 'Anomaly'], namedClasses: false };

describe('head files', () => {
  it('vad train writes heads/NAME.onnx and its card, and never replaces a head without --force', async () => {
    const models = join(dir, 'a');
    const written = await writeHead(models, 'yard-v1', head(1), card);
    expect(written.file).toBe(join(models, 'heads', 'yard-v1.onnx'));
    const bytes = await readFile(written.file);
    expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(JSON.parse(await readFile(written.card, 'utf8'))).toMatchObject({ name: 'yard-v1', sha256: written.sha256 });
    await expect(writeHead(models, 'yard-v1', head(2), card)).rejects.toThrow(/exists already.*--force/);
    expect((await readFile(written.file)).equals(bytes)).toBe(true);
    await writeHead(models, 'yard-v1', head(2), card, { force: true });
    expect((await readFile(written.file)).equals(bytes)).toBe(false);
    await expect(writeHead(models, '../elsewhere', head(1), card)).rejects.toThrow(/is a path/);
    expect((await readdir(join(models, 'heads'))).sort()).toEqual(['yard-v1.json', 'yard-v1.onnx']);
  });

  it('vad rescore --head FILE installs a checked copy named by its sha256 (or --name), once', async () => {
    const models = join(dir, 'b');
    const source = join(dir, 'trained-elsewhere.onnx');
    await writeFile(source, head(3));
    await writeFile(join(dir, 'trained-elsewhere.json'), '{"note":"card"}');
    const first = await installHead(models, source);
    const sha = createHash('sha256').update(head(3)).digest('hex');
    expect(first).toMatchObject({ name: `head-${sha.slice(0, 12)}`, sha256: sha, installed: true });
    expect(JSON.parse(await readFile(first.card, 'utf8'))).toEqual({ note: 'card' });
    expect(await installHead(models, source)).toMatchObject({ name: first.name, installed: false });
    // A file already in heads/ keeps its name.
    expect(await installHead(models, first.file)).toMatchObject({ name: first.name, installed: false });
    expect(await installHead(models, source, 'lot-v3')).toMatchObject({ name: 'lot-v3', installed: true });
    await writeFile(source, head(4));
    await expect(installHead(models, source, 'lot-v3')).rejects.toThrow(/a different head is installed as lot-v3/);
    const bogus = join(dir, 'bogus.onnx');
    await writeFile(bogus, 'not a model');
    await expect(installHead(models, bogus)).rejects.toThrow(/bogus\.onnx is not/);
    expect((await readdir(join(models, 'heads'))).filter((f) => f.endsWith('.onnx')).sort()).toEqual([
      `${first.name}.onnx`,
      'lot-v3.onnx',
    ]);
  });
});
