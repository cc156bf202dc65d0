/**
 * A search that cannot be answered as asked, with a reason to show as is:
 * `bad-input` (the request itself), `not-found` (an event or camera that does
 * not exist), `gone` (what it names existed, but what a search needs of it
 * was removed, e.g. by retention).
 */
export class SearchError extends Error {
  constructor(
    readonly kind: 'bad-input' | 'not-found' | 'gone',
    message: string,
    /** The request field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SearchError';
  }
}
