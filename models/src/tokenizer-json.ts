/** A special token of a tokenizer.json's `added_tokens`, as Hugging Face tokenizers write them. */
export function specialToken(content: string, id: number) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
