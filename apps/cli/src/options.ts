import type { z } from 'zod';

/** An option's name as typed, from a zod issue's path (`minScore` → `--min-score`). */
export const optionOf = (issue: z.core.$ZodIssue | undefined) =>
  `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
