import { promptSetSchema } from '@vad/scoring';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { QueueName } from './names.js';

/** Urgent work runs at once, outside the processing window too. */
const urgent = z.boolean().optional();

export const ingestJobSchema = z.object({ videoId: z.uuid(), urgent });
export type IngestJobData = z.infer<typeof ingestJobSchema>;

export const embedJobSchema = z.object({
  videoId: z.uuid(),
  segmentIndex: z.number().int().nonnegative(),
  /** Index of the segment's first frame among the video's sampled frames. */
  firstFrameIndex: z.number().int().nonnegative(),
  frameCount: z.number().int().positive(),
  model: z.string().min(1),
  urgent,
});
export type EmbedJobData = z.infer<typeof embedJobSchema>;

/** Scoring settings a rescore asks for instead of the worker's configured ones. */
export const scoringOverridesSchema = z
  .object({
    promptSet: promptSetSchema.optional(),
    aggregator: z.enum(['mean', 'attention']).optional(),
    threshold: z.number().gt(0).lt(1).optional(),
    smoothingClips: z.number().int().min(1).max(99).optional(),
    minDurationMs: z.number().int().min(0).optional(),
    mergeGapMs: z.number().int().min(0).optional(),
  })
  .strict();
export type ScoringOverrides = z.infer<typeof scoringOverridesSchema>;

export const aggregateJobSchema = z.object({
  videoId: z.uuid(),
  urgent,
  scoring: scoringOverridesSchema.optional(),
});
export type AggregateJobData = z.infer<typeof aggregateJobSchema>;

export const jobSchemas = {
  ingest: ingestJobSchema,
  embed: embedJobSchema,
  aggregate: aggregateJobSchema,
} as const satisfies Record<QueueName, z.ZodType>;

export type JobData = {
  ingest: IngestJobData;
  embed: EmbedJobData;
  aggregate: AggregateJobData;
};

/** Validates a job's payload; a malformed one can never succeed, so it is not retried. */
export function parseJobData<Q extends QueueName>(queue: Q, data: unknown): JobData[Q] {
  const result = jobSchemas[queue].safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ');
    throw new UnrecoverableError(`invalid ${queue} job payload: ${problems}`);
  }
  return result.data as JobData[Q];
}
