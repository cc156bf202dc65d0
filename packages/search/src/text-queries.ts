import {
  cachedPromptEmbeddings,
  normalize,
  type PromptEmbeddingStore,
  UCF_CRIME_PROMPTS,
  weightedMean,
} from '@vad/scoring';
import { SearchError } from './errors.js';

/**
 * The search text is put into the scoring's templates ("a surveillance video
 * of {}", …) and the template embeddings averaged: the same prompt
 * ensembling the class prompts get, so a query and a class read alike.
 */
export const SEARCH_TEMPLATES: readonly string[] = UCF_CRIME_PROMPTS.templates;

/** What search needs of a model's text encoder (the ClipTextEncoder of @vad/clip). */
export interface TextEncoderPort {
  encode(texts: readonly string[]): Promise<Float32Array[]>;
  /** Tokens of a text, start and end tokens included. */
  tokenCount(text: string): number;
  /** Tokens the encoder reads, start and end tokens included (CLIP: 77). */
  contextLength: number;
}

/** Search text → query vector of a model: templates, the model's tokenizer and text encoder, cached in memory and in the database. */
export class TextQueries {
  private readonly memory = new Map<string, Float32Array>();

  constructor(
    private readonly encoder: (model: string) => Promise<TextEncoderPort>,
    private readonly cache: PromptEmbeddingStore,
    private readonly maxMemoryEntries = 1000,
  ) {}

  async vector(model: string, text: string): Promise<Float32Array> {
    const key = `${model}\u0000${text}`;
    const known = this.memory.get(key);
    if (known) return known;
    const prompts = SEARCH_TEMPLATES.map((t) => t.replaceAll('{}', text));
    // The same cache as the class prompts (text_embeddings), shared with scoring.
    const embeddings = await cachedPromptEmbeddings(this.cache, model, prompts, async (missing) => {
      const encoder = await this.encoder(model);
      // The longest filled template must fit: a longer one would be cut, and the search would silently ignore its end.
      const tokens = Math.max(...missing.map((p) => encoder.tokenCount(p)));
      if (tokens > encoder.contextLength) {
        const templateTokens = tokens - encoder.tokenCount(text);
        throw new SearchError(
          'bad-input',
          `the search text is too long for the model: ${encoder.tokenCount(text) - 2} tokens, ` +
            `and the model reads at most ${encoder.contextLength - 2 - templateTokens} (shorten it)`,
          'text',
        );
      }
      return encoder.encode(missing);
    });
    const vector = normalize(weightedMean(embeddings.map(normalize)));
    if (this.memory.size >= this.maxMemoryEntries) this.memory.delete(this.memory.keys().next().value as string);
    this.memory.set(key, vector);
    return vector;
  }
}
