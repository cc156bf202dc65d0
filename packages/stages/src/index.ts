export {
  type AggregateResult,
  AggregateService,
  type AggregateServiceDeps,
  loadPromptSet,
  type PromptEncoder,
  type SequenceHead,
} from './aggregate-service.js';
export { type CaptionResult, CaptionService, type CaptionServiceDeps, type EventCaptioner } from './caption-service.js';
export { type EmbedResult, EmbedService, type EmbedServiceDeps, type FrameEmbedder } from './embed-service.js';
export { type IngestResult, IngestService, type IngestServiceDeps } from './ingest-service.js';
export { HeldByWindow, isFinalAttempt, type JobContext, stopIfHeld } from './job-context.js';
export { createJobProcessor, type JobHandler, type OutageGuard } from './job-processor.js';
