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

/** What a job id made by `jobIds` stands for. */
export type ParsedJobId =
  | { kind: 'ingest' | 'aggregate'; videoId: string }
  | { kind: 'embed'; videoId: string; segmentIndex: number }
  | { kind: 'rescore'; videoId: string; requestId: string };

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const JOB_ID = new RegExp(`^(ingest|aggregate|embed|rescore)\\.(${UUID})(?:\\.(.+))?$`);

/** The inverse of `jobIds`; undefined for an id vad did not make. */
export function parseJobId(id: string | undefined): ParsedJobId | undefined {
  const match = id ? JOB_ID.exec(id) : null;
  if (!match) return undefined;
  const [, kind, videoId = '', rest] = match;
  if (kind === 'ingest' || kind === 'aggregate') return rest === undefined ? { kind, videoId } : undefined;
  if (kind === 'embed') {
    const segmentIndex = Number(rest);
    return rest !== undefined && Number.isInteger(segmentIndex) && segmentIndex >= 0
      ? { kind, videoId, segmentIndex }
      : undefined;
  }
  return kind === 'rescore' && rest ? { kind, videoId, requestId: rest } : undefined;
}

/**
 * The job a flow dependency names: BullMQ lists a parent's children as keys
 * ending in `:<queue>:<job id>` (vad's ids hold no colon); undefined for a
 * key whose id vad did not make.
 */
export function parseChildKey(key: string): { jobId: string; job: ParsedJobId } | undefined {
  const jobId = key.slice(key.lastIndexOf(':') + 1);
  const job = parseJobId(jobId);
  return job ? { jobId, job } : undefined;
}
