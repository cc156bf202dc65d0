import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

/** A captioner's tokenizer.json (through @huggingface/tokenizers), for turning generated ids into text. */
export class CaptionTokenizer {
  private constructor(private readonly tokenizer: Tokenizer) {}

  static async load(tokenizerPath: string, configPath?: string): Promise<CaptionTokenizer> {
    const json = JSON.parse(await readFile(tokenizerPath, 'utf8')) as object;
    const config = configPath ? (JSON.parse(await readFile(configPath, 'utf8')) as object) : {};
    return new CaptionTokenizer(new Tokenizer(json, config));
  }

  /** The text of `ids`, special tokens skipped, trimmed. */
  decode(ids: readonly number[]): string {
    return ids.length ? this.tokenizer.decode([...ids], { skip_special_tokens: true }).trim() : '';
  }

  /** The vocabulary's token strings of `ids` (as the tokenizer stores them, e.g. "Ġcat" for GPT-2). */
  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tokenizer.id_to_token(id) ?? `<${id}>`);
  }

  /** Token ids of a text (no special tokens added): for tests and prompts. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }
}
