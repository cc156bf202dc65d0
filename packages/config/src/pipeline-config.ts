import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Which decoded frames are encoded:
 * - `fixed`: every frame of the sampling grid (sampleFps).
 * - `keyframes`: only the video's keyframes (no more than sampleFps of them), each at its own time;
 *   the decoder skips everything else, so it is several times faster on long-GOP camera footage.
 * - `motion`: every frame of the grid is decoded, but one is encoded only when it differs enough
 *   from the last encoded frame of its segment; the others reuse that embedding.
 */
export const samplingModeSchema = z.enum(['fixed', 'keyframes', 'motion']);
export type SamplingMode = z.infer<typeof samplingModeSchema>;

/** How `motion` sampling tells a changed frame from a still one (see @vad/video's motion detector). */
export const motionSettingsSchema = z.object({
  /** Levels (0–255) the mean red, green or blue of a cell of the 56×56 grid must change by to count as changed. */
  threshold: z.number().positive().max(255),
  /** Share of the picture (0–1) whose cells must change for the frame to be encoded. */
  minArea: z.number().gt(0).max(1),
});
export type MotionSettings = z.infer<typeof motionSettingsSchema>;

/**
 * The settings that decide what a video's results are. Recorded with every
 * video; the same file under the same pipeline config is the same video.
 */
export const pipelineConfigSchema = z.object({
  model: z.string().min(1),
  inputSize: z.number().int().min(16),
  sampleFps: z.number().positive(),
  /** Frames per embed job: a throughput knob, not part of the identity (but in `motion`, see below). */
  segmentFrames: z.number().int().positive(),
  clipFrames: z.number().int().positive(),
  clipStride: z.number().int().positive(),
  /** Absent: `fixed` (as every video recorded before sampling modes existed). */
  sampling: samplingModeSchema.optional(),
  /** Set when `sampling` is `motion`. */
  motion: motionSettingsSchema.optional(),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** What the configuration decides of a PipelineConfig; the input size is the model's. */
export type PipelineSettings = Omit<PipelineConfig, 'inputSize'>;

/** Fields that change results; segmentFrames only changes how work is split. */
const IDENTITY_FIELDS = ['model', 'inputSize', 'sampleFps', 'clipFrames', 'clipStride'] as const;

/**
 * Stable hash of the result-deciding fields (key order and segmentFrames do not
 * matter). `fixed` sampling adds nothing, so videos recorded before sampling
 * modes keep their hash. Under `motion` every segment starts with an encoded
 * frame, so the segment length is part of the result too.
 */
export function hashPipelineConfig(config: PipelineConfig): string {
  const identity: [string, unknown][] = IDENTITY_FIELDS.map((field) => [field, config[field]]);
  const sampling = config.sampling ?? 'fixed';
  if (sampling !== 'fixed') identity.push(['sampling', sampling]);
  if (sampling === 'motion') {
    identity.push(['motion', [config.motion?.threshold, config.motion?.minArea]]);
    identity.push(['segmentFrames', config.segmentFrames]);
  }
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}
