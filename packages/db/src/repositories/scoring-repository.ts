import { and, desc, eq, gte, lte, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { anomalyEvents, cameras, clipScores, scoringRuns, videos } from '../schema.js';

export interface ScoringRunInput {
  id: string;
  videoId: string;
  model: string;
  promptSet: string;
  aggregator: string;
  params: Record<string, unknown>;
  configHash: string;
}

export interface ClipScoreInput {
  clipIndex: number;
  startMs: number;
  endMs: number;
  validFrames: number;
  anomalyScore: number;
  label: string;
  probabilities: Record<string, number>;
}

export interface EventInput {
  startMs: number;
  endMs: number;
  peakMs: number;
  startAt: Date | null;
  endAt: Date | null;
  peakScore: number;
  label: string;
  thumbnailPath: string | null;
}

export interface EventQuery {
  camera?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  minScore?: number | undefined;
  label?: string | undefined;
  limit: number;
}

export class ScoringRepository {
  constructor(private readonly db: Database) {}

  /**
   * Writes a scoring run with its clip scores and events in one transaction,
   * replacing an earlier run of the same video and scoring config (so a
   * re-run never duplicates), and marks the video done when asked. Returns
   * the id of the run it replaced, if any.
   */
  async saveRun(
    run: ScoringRunInput,
    clips: readonly ClipScoreInput[],
    events: readonly EventInput[],
    cameraId: number | null,
    options: { markVideoDone: boolean },
  ): Promise<{ replacedRunId: string | undefined }> {
    return this.db.transaction(async (tx) => {
      const replaced = await tx
        .delete(scoringRuns)
        .where(and(eq(scoringRuns.videoId, run.videoId), eq(scoringRuns.configHash, run.configHash)))
        .returning({ id: scoringRuns.id });
      await tx.insert(scoringRuns).values(run);
      for (let i = 0; i < clips.length; i += 1000) {
        await tx
          .insert(clipScores)
          .values(clips.slice(i, i + 1000).map((c) => ({ ...c, scoringRunId: run.id, videoId: run.videoId })));
      }
      if (events.length) {
        await tx
          .insert(anomalyEvents)
          .values(events.map((e) => ({ ...e, videoId: run.videoId, cameraId, scoringRunId: run.id })));
      }
      if (options.markVideoDone) {
        await tx
          .update(videos)
          .set({ status: 'done', error: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(eq(videos.id, run.videoId));
      }
      return { replacedRunId: replaced[0]?.id };
    });
  }

  async latestRun(videoId: string) {
    return this.db.query.scoringRuns.findFirst({
      where: eq(scoringRuns.videoId, videoId),
      orderBy: (r, { desc }) => [desc(r.createdAt)],
    });
  }

  async clipsOf(runId: string) {
    return this.db.select().from(clipScores).where(eq(clipScores.scoringRunId, runId)).orderBy(clipScores.clipIndex);
  }

  async eventsOf(runId: string) {
    return this.db
      .select()
      .from(anomalyEvents)
      .where(eq(anomalyEvents.scoringRunId, runId))
      .orderBy(anomalyEvents.startMs);
  }

  /** Events of each video's latest scoring run, newest first, filtered. */
  async findEvents(query: EventQuery) {
    const latestRun = sql`${anomalyEvents.scoringRunId} = (
      select r.id from ${scoringRuns} r where r.video_id = ${anomalyEvents.videoId} order by r.created_at desc limit 1)`;
    const filters: SQL[] = [latestRun];
    if (query.camera) filters.push(eq(cameras.name, query.camera));
    if (query.since) filters.push(gte(anomalyEvents.startAt, query.since));
    if (query.until) filters.push(lte(anomalyEvents.startAt, query.until));
    if (query.minScore !== undefined) filters.push(gte(anomalyEvents.peakScore, query.minScore));
    if (query.label) filters.push(eq(anomalyEvents.label, query.label));
    return this.db
      .select({
        id: anomalyEvents.id,
        videoId: anomalyEvents.videoId,
        camera: cameras.name,
        startAt: anomalyEvents.startAt,
        endAt: anomalyEvents.endAt,
        startMs: anomalyEvents.startMs,
        endMs: anomalyEvents.endMs,
        peakScore: anomalyEvents.peakScore,
        label: anomalyEvents.label,
        thumbnailPath: anomalyEvents.thumbnailPath,
        sourceUri: videos.sourceUri,
      })
      .from(anomalyEvents)
      .innerJoin(videos, eq(videos.id, anomalyEvents.videoId))
      .leftJoin(cameras, eq(cameras.id, anomalyEvents.cameraId))
      .where(and(...filters))
      .orderBy(desc(anomalyEvents.startAt), desc(anomalyEvents.id))
      .limit(query.limit);
  }
}
