import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../client.js';
import { textEmbeddings } from '../schema.js';
import { fromBytes, toBytes } from './embedding-bytes.js';

/** Cache of prompt embeddings per model: prompts are encoded once, whatever the number of videos. */
export class TextEmbeddingRepository {
  constructor(private readonly db: Database) {}

  async getMany(model: string, prompts: readonly string[]): Promise<Map<string, Float32Array>> {
    if (prompts.length === 0) return new Map();
    const rows = await this.db
      .select({ prompt: textEmbeddings.prompt, embedding: textEmbeddings.embedding })
      .from(textEmbeddings)
      .where(and(eq(textEmbeddings.model, model), inArray(textEmbeddings.prompt, [...prompts])));
    return new Map(rows.map((r) => [r.prompt, fromBytes(r.embedding)]));
  }

  async insertMany(model: string, entries: readonly [string, Float32Array][]): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insert(textEmbeddings)
      .values(entries.map(([prompt, vector]) => ({ model, prompt, embedding: toBytes(vector) })))
      .onConflictDoNothing();
  }
}
