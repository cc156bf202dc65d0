import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  model?: { vocab?: Record<string, number> | [string, number][] };
}

export interface TokenizedBatch {
  /** rows × contextLength token ids, padded. */
  ids: number[][];
  /** 1 for real tokens, 0 for padding. */
  mask: number[][];
}

/**
 * The model's own tokenizer.json through @huggingface/tokenizers, padded and
 * truncated to the context length as CLIP does: start token, text, end token,
 * then the pad token; a text too long keeps its first tokens and still ends
 * with the end token.
 */
export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly padId: number,
    readonly endId: number,
    readonly contextLength: number,
  ) {}

  static async load(tokenizerPath: string, configPath: string | undefined, contextLength = 77): Promise<ClipTokenizer> {
    const json = JSON.parse(await readFile(tokenizerPath, 'utf8')) as TokenizerJson;
    const config = configPath
      ? (JSON.parse(await readFile(configPath, 'utf8').catch(() => '{}')) as Record<string, unknown>)
      : {};
    const tokenizer = new Tokenizer(json, config);
    const special = tokenizer.encode('').ids;
    const endId = special.at(-1);
    if (endId === undefined) throw new Error(`${tokenizerPath}: the tokenizer adds no end token`);
    const padToken = typeof config.pad_token === 'string' ? config.pad_token : undefined;
    const padId = (padToken && ClipTokenizer.idOf(json, padToken)) ?? endId;
    return new ClipTokenizer(tokenizer, padId, endId, contextLength);
  }

  private static idOf(json: TokenizerJson, token: string): number | undefined {
    const added = json.added_tokens?.find((t) => t.content === token)?.id;
    if (added !== undefined) return added;
    const vocab = json.model?.vocab;
    if (Array.isArray(vocab)) {
      const index = vocab.findIndex(([t]) => t === token);
      return index >= 0 ? index : undefined;
    }
    return vocab?.[token];
  }

  /** Token ids as the tokenizer gives them, with start and end tokens, unpadded. */
  tokenize(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  encode(texts: readonly string[]): TokenizedBatch {
    const ids: number[][] = [];
    const mask: number[][] = [];
    for (const text of texts) {
      let row = this.tokenize(text);
      if (row.length > this.contextLength) row = [...row.slice(0, this.contextLength - 1), this.endId];
      const padding = this.contextLength - row.length;
      ids.push([...row, ...new Array<number>(padding).fill(this.padId)]);
      mask.push([...new Array<number>(row.length).fill(1), ...new Array<number>(padding).fill(0)]);
    }
    return { ids, mask };
  }
}
