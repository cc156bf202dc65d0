export { type Config, ConfigError, type LoadConfigOptions, loadConfig, loadConfigOrExit } from './config.js';
export { type Env, envSchema } from './env-schema.js';
export { createLogger, type Logger } from './logger.js';
export { hashPipelineConfig, type PipelineConfig, pipelineConfigSchema } from './pipeline-config.js';
