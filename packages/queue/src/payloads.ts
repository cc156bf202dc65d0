import { aggregatorSchema, scoringModeSchema } from '@vad/config';
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
    promptSet: promptSetSchema
      .optional()
      .describe('A prompt set {name, templates, normal, classes}; default: the configured one'),
    aggregator: aggregatorSchema
      .optional()
      .describe("mean | attention | onnx (the aggregate workers' VAD_TEMPORAL_HEAD); default: VAD_AGGREGATOR"),
    mode: scoringModeSchema
      .optional()
      .describe('prompts | normality | fused | learned (a head trained by vad train); default: VAD_SCORING_MODE'),
    head: z
      .string()
      .regex(/^[A-Za-z0-9_][\w.-]{0,127}$/, 'a head name in <VAD_MODEL_DIR>/heads (letters, digits, . _ -), not a path')
      .optional()
      .describe(
        'For mode learned: a head in <VAD_MODEL_DIR>/heads by name (vad train --out NAME); default: VAD_SCORING_HEAD',
      ),
    threshold: z.number().gt(0).lt(1).optional().describe('Event threshold; default: VAD_EVENT_THRESHOLD'),
    smoothingClips: z.number().int().min(1).max(99).optional().describe('Moving-average window over clip scores'),
    minDurationMs: z.number().int().min(0).optional().describe('Shortest event kept'),
    mergeGapMs: z.number().int().min(0).optional().describe('Events closer than this are merged'),
  })
  .strict();
export type ScoringOverrides = z.infer<typeof scoringOverridesSchema>;

export const aggregateJobSchema = z.object({
  videoId: z.uuid(),
  urgent,
  /** Present on a rescore (with the settings it asks for, possibly none): the video was scored before. */
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
