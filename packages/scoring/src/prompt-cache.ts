/** Where prompt embeddings are kept per model (the text_embeddings table: TextEmbeddingRepository of @vad/db). */
export interface PromptEmbeddingStore {
  getMany(model: string, prompts: readonly string[]): Promise<Map<string, Float32Array>>;
  insertMany(model: string, entries: readonly [string, Float32Array][]): Promise<void>;
}

/**
 * The embeddings of `prompts` (in order) from the store, encoding (and
 * storing) only those not seen before: each prompt is encoded once per
 * model, whatever the number of videos or searches that use it.
 */
export async function cachedPromptEmbeddings(
  store: PromptEmbeddingStore,
  model: string,
  prompts: readonly string[],
  encode: (missing: string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const unique = [...new Set(prompts)];
  const cached = await store.getMany(model, unique);
  const missing = unique.filter((p) => !cached.has(p));
  if (missing.length) {
    const vectors = await encode(missing);
    const entries = missing.map((p, i) => [p, vectors[i] as Float32Array] as [string, Float32Array]);
    await store.insertMany(model, entries);
    for (const [p, v] of entries) cached.set(p, v);
  }
  return prompts.map((p) => cached.get(p) as Float32Array);
}
