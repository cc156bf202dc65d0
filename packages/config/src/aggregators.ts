import { z } from 'zod';

/**
 * How a clip's frame features become one sequence feature: `mean` pooling,
 * prompt-guided `attention`, or a learned temporal head (`onnx`, the file
 * named by VAD_TEMPORAL_HEAD on the aggregate workers).
 */
export const AGGREGATORS = ['mean', 'attention', 'onnx'] as const;
export const aggregatorSchema = z.enum(AGGREGATORS);
export type AggregatorName = z.infer<typeof aggregatorSchema>;

/**
 * How a clip's anomaly score is made: `prompts` (alignment with the prompt
 * set's classes, zero-shot), `normality` (distance to the camera's memory of
 * normal clips), `fused` (both, see packages/scoring), or `learned` (a head
 * trained by `vad train`, the file named by VAD_SCORING_HEAD).
 */
export const SCORING_MODES = ['prompts', 'normality', 'fused', 'learned'] as const;
export const scoringModeSchema = z.enum(SCORING_MODES);
export type ScoringMode = z.infer<typeof scoringModeSchema>;
