import { type ModelSpec, resolveModelSpec } from '@vad/clip';
import type { Config, PipelineConfig } from '@vad/config';

/** The configured model's spec (manifest, or added with `vad models add`). */
export function configuredModel(config: Pick<Config, 'models'>): ModelSpec {
  return resolveModelSpec(config.models.model, config.models.dir);
}

/** The pipeline settings a submitted video is recorded with: the configuration's, at the model's own input size. */
export function pipelineConfigOf(config: Pick<Config, 'models' | 'pipeline'>): PipelineConfig {
  return { ...config.pipeline, inputSize: configuredModel(config).inputSize };
}
