import { getModelSpec, resolveModelPaths } from '@vad/clip';
import type { Config } from '@vad/config';
import { type BuiltModelName, buildModel } from '@vad/models';
import { expandPrompts, UCF_CRIME_PROMPTS } from '@vad/scoring';
import { createTestConfig, createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '@vad/testing';

export interface BenchPipeline {
  db: TestDatabase;
  redis: TestRedis;
  config: Config;
}

/**
 * A database and Redis prefix of their own for a benchmark's `vad workers`,
 * configured for `model` on the CPU at batch 32. The benchmark encoder has no
 * text tower: its prompt embeddings are seeded into the cache (random unit
 * vectors), so the aggregate stage runs as usual without a text encoder.
 */
export async function createBenchPipeline(
  model: string,
  modelDir: string,
  embeddingSize: number,
): Promise<BenchPipeline> {
  const db = await createTestDatabase();
  const redis = createTestRedis();
  const config = createTestConfig({
    databaseUrl: db.url,
    redisUrl: redis.url,
    prefix: redis.prefix,
    env: { VAD_MODEL: model, VAD_MODEL_DIR: modelDir, VAD_EXECUTION_PROVIDER: 'cpu', VAD_BATCH_SIZE: '32' },
  });
  const prompts = [...new Set(expandPrompts(UCF_CRIME_PROMPTS).prompts)];
  await db.repos.textEmbeddings.insertMany(
    model,
    prompts.map((p) => {
      const v = new Float32Array(embeddingSize).map(() => Math.random() - 0.5);
      const n = Math.hypot(...v);
      return [p, v.map((x) => x / n)] as [string, Float32Array];
    }),
  );
  return { db, redis, config };
}

/** The image encoder file of one of vad's own models in `modelDir`, built there first when missing. */
export async function ensureBenchModel(model: BuiltModelName, modelDir: string): Promise<string> {
  const spec = getModelSpec(model);
  try {
    return resolveModelPaths(modelDir, model, spec, ['image']).image;
  } catch {
    await buildModel(model, modelDir);
    return resolveModelPaths(modelDir, model, spec, ['image']).image;
  }
}
