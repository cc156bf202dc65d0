/**
 * The JSON the API answers with, as the review app reads it: generated from
 * the API's own OpenAPI document (packages/http/openapi.json, kept current by
 * its test) into openapi.d.ts by openapi-typescript on every build and type
 * check, so the app's types are the server's zod schemas, not a copy of them.
 */
import type { components } from './openapi';

type Schemas = components['schemas'];

export type Session = Schemas['Session'];
export type Scope = Session['scope'];
export type ReviewSummary = Schemas['EventReviewSummary'];
export type Verdict = ReviewSummary['verdict'];
export type AnomalyEvent = Schemas['Event'];
/** An event of a scoring run (GET /v1/videos/:id/scores): without its review. */
export type RunEvent = Schemas['Scores']['events'][number];
export type EventList = Schemas['EventList'];
export type Video = Schemas['Video'];
export type VideoDetail = Schemas['VideoDetail'];
export type VideoStatus = Video['status'];
export type ScoringRun = Schemas['ScoringRun'];
export type Clip = Schemas['ClipScore'];
export type Scores = Schemas['Scores'];
export type QueueReport = Schemas['QueueHealth'];
export type QueueHealth = QueueReport['queues'][number];
export type QueueName = QueueHealth['name'];
export type Camera = Schemas['Camera'];
export type CameraNights = Schemas['CameraNights'];
export type SubmitResult = Schemas['SubmitResult'];
export type ApiErrorBody = Schemas['Error'];
