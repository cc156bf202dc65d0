export {
  AGGREGATORS,
  type AggregatorName,
  aggregatorSchema,
  SCORING_MODES,
  type ScoringMode,
  scoringModeSchema,
} from './aggregators.js';
export {
  API_SCOPES,
  type ApiScope,
  type ApiToken,
  apiTokenEntrySchema,
  createApiToken,
  findApiToken,
  hashApiToken,
  scopeAllows,
} from './api-token.js';
export { type Config, ConfigError, type LoadConfigOptions, loadConfig, loadConfigOrExit } from './config.js';
export { type Env, envSchema } from './env-schema.js';
export { createLogger, type Logger } from './logger.js';
export {
  hashPipelineConfig,
  type MotionSettings,
  motionSettingsSchema,
  type PipelineConfig,
  type PipelineSettings,
  pipelineConfigSchema,
  type SamplingMode,
  samplingModeSchema,
} from './pipeline-config.js';
