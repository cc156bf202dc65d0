import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The settings that decide what a video's results are. Recorded with every
 * video; the same file under the same pipeline config is the same video.
 */
export const pipelineConfigSchema = z.object({
  model: z.string().min(1),
  inputSize: z.number().int().min(16),
  sampleFps: z.number().positive(),
  /** Frames per embed job: a throughput knob, not part of the identity. */
  segmentFrames: z.number().int().positive(),
  clipFrames: z.number().int().positive(),
  clipStride: z.number().int().positive(),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** What the configuration decides of a PipelineConfig; the input size is the model's. */
export type PipelineSettings = Omit<PipelineConfig, 'inputSize'>;

/** Fields that change results; segmentFrames only changes how work is split. */
const IDENTITY_FIELDS = ['model', 'inputSize', 'sampleFps', 'clipFrames', 'clipStride'] as const;

/** Stable hash of the result-deciding fields (key order and segmentFrames do not matter). */
export function hashPipelineConfig(config: PipelineConfig): string {
  const identity = IDENTITY_FIELDS.map((field) => [field, config[field]]);
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}
