import { z } from 'zod';

/**
 * How a clip's frame features become one sequence feature: `mean` pooling,
 * prompt-guided `attention`, or a learned temporal head (`onnx`, the file
 * named by VAD_TEMPORAL_HEAD on the aggregate workers).
 */
export const AGGREGATORS = ['mean', 'attention', 'onnx'] as const;
export const aggregatorSchema = z.enum(AGGREGATORS);
export type AggregatorName = z.infer<typeof aggregatorSchema>;
