export {
  type AccessUnit,
  type DhavCodec,
  type DhavOptions,
  dhavDate,
  muxDhav,
  splitAccessUnits,
} from './dhav-writer.js';
export { folderSnapshot } from './folder-snapshot.js';
export { freePort, freePorts } from './free-ports.js';
export {
  frameLabelsCsv,
  generateLabelledFootage,
  type LabelledFootageOptions,
  type LabelledVideo,
  labelsCsv,
  UNNAMED_ANOMALIES,
  type UnnamedAnomaly,
} from './labelled-footage.js';
export {
  colourTimeline,
  type Rgb,
  type SeedEmbeddedVideo,
  seedEmbeddedVideo,
  solidFrames,
} from './seed-embedded-video.js';
export { type SeedScoredVideo, seedScoredVideo } from './seed-scored-video.js';
export { TcpProxy } from './tcp-proxy.js';
export { configToEnv, createTestConfig, TEST_QUEUE_BACKEND, type TestConfigOptions } from './test-config.js';
export { createTestDatabase, TEST_DATABASE_SERVER, type TestDatabase } from './test-database.js';
export {
  createTestEnvironment,
  type TestEnvironment,
  type TestEnvironmentOptions,
  useTestEnvironment,
} from './test-environment.js';
export { ensureTinyModel } from './test-models.js';
export { createTestRedis, TEST_REDIS_URL, type TestRedis } from './test-redis.js';
export {
  type DisplayRotation,
  type ExtensionVideoOptions,
  GENERATED_EXTENSIONS,
  type GeneratedVideoOptions,
  generateAudioOnly,
  generateIncidentVideo,
  generateRotatedCopy,
  generateVideo,
  generateVideoWithExtension,
  truncateCopy,
  writeTextAsVideo,
} from './video-fixtures.js';
export { waitFor, waitForCompleted } from './wait-for.js';
