export const QUEUE_NAMES = ['ingest', 'embed', 'aggregate'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Deterministic job ids, derived from (video, stage, segment): adding a job
 * that exists already is a no-op, so a re-submitted video or a restarted
 * ingest never duplicates work. (BullMQ forbids ':' in custom ids.)
 */
export const jobIds = {
  ingest: (videoId: string) => `ingest.${videoId}`,
  embed: (videoId: string, segmentIndex: number) => `embed.${videoId}.${segmentIndex}`,
  aggregate: (videoId: string) => `aggregate.${videoId}`,
  /** A rescore asked for by a user: one job per request, on the aggregate queue. */
  rescore: (videoId: string, requestId: string) => `rescore.${videoId}.${requestId}`,
};
