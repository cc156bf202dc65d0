import { z } from 'zod';

/** Longest search text accepted; the model's tokenizer has the last word (see TextQueries). */
export const SEARCH_TEXT_MAX_CHARS = 300;
export const SEARCH_MAX_LIMIT = 100;
export const SEARCH_MAX_OFFSET = 1000;

/**
 * A search: by text, or by an event's look (its peak frame), optionally of
 * one camera and a time range (absolute times, moments overlapping it), in
 * pages (`offset`, `limit`) of moments ranked by score.
 */
export const searchRequestSchema = z
  .object({
    text: z
      .string()
      .trim()
      .min(1, { message: 'the search text is empty' })
      .max(SEARCH_TEXT_MAX_CHARS, { message: `the search text is longer than ${SEARCH_TEXT_MAX_CHARS} characters` })
      .refine((t) => !t.includes('\u0000'), { message: 'the search text contains NUL' })
      .optional(),
    likeEvent: z.number().int().positive({ message: 'must be an event id (a positive integer)' }).optional(),
    camera: z.string().trim().min(1).optional(),
    since: z.date().optional(),
    until: z.date().optional(),
    /** The embedding model whose frames to search; default: the event's (likeEvent) or the configured one. */
    model: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(SEARCH_MAX_LIMIT).default(20),
    offset: z.number().int().min(0).max(SEARCH_MAX_OFFSET).default(0),
    /** Make (or reuse) a thumbnail of each moment's best frame. */
    thumbnails: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if ((r.text === undefined) === (r.likeEvent === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'give either a search text or an event to look like' });
    }
    if (r.since && r.until && r.since >= r.until) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
    }
  });

export type SearchRequest = z.input<typeof searchRequestSchema>;
export type ParsedSearchRequest = z.output<typeof searchRequestSchema>;
