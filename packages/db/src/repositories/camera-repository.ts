import type { ScoringMode } from '@vad/config';
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { anomalyEvents, type Camera, cameras, eventReviews, videos } from '../schema.js';

/** One camera's events of one night, with operators' verdicts on them. */
export interface CameraNight {
  camera: string;
  /** The night's name: the date of its evening, in the zone asked for ("2026-11-29" for 29–30 Nov). */
  night: string;
  events: number;
  trueAlarms: number;
  falseAlarms: number;
}

export class CameraRepository {
  constructor(private readonly db: Database) {}

  /** The camera of that name, created on first use. */
  async ensure(name: string): Promise<Camera> {
    const [camera] = await this.db
      .insert(cameras)
      .values({ name })
      .onConflictDoUpdate({ target: cameras.name, set: { name: sql`excluded.name` } })
      .returning();
    if (!camera) throw new Error(`camera ${name} could not be created`);
    return camera;
  }

  async findByName(name: string): Promise<Camera | undefined> {
    return this.db.query.cameras.findFirst({ where: (c, { eq }) => eq(c.name, name) });
  }

  /** Cameras with their weight and how many of their videos wait or are under way. */
  async list(): Promise<(Camera & { waiting: number; processing: number; done: number; failed: number })[]> {
    const rows = await this.db
      .select({
        camera: cameras,
        waiting: sql<number>`count(*) filter (where ${videos.status} = 'queued')::int`,
        processing: sql<number>`count(*) filter (where ${videos.status} in ('ingesting', 'embedding', 'aggregating'))::int`,
        done: sql<number>`count(*) filter (where ${videos.status} = 'done')::int`,
        failed: sql<number>`count(*) filter (where ${videos.status} = 'failed')::int`,
      })
      .from(cameras)
      .leftJoin(videos, eq(videos.cameraId, cameras.id))
      .groupBy(cameras.id)
      .orderBy(cameras.name);
    return rows.map(({ camera, ...counts }) => ({ ...camera, ...counts }));
  }

  /**
   * Current events per camera per night since `since`: a night runs from noon
   * to noon in `timeZone` and is named by the date of its evening. Counted from
   * the events' start time (events of recordings without one are left out).
   */
  async nightlyEvents(since: Date, timeZone: string): Promise<CameraNight[]> {
    const e = anomalyEvents;
    const r = eventReviews;
    const night = sql<string>`to_char(((${e.startAt} at time zone ${timeZone}) - interval '12 hours')::date, 'YYYY-MM-DD')`;
    return (
      this.db
        .select({
          camera: cameras.name,
          night,
          events: sql<number>`count(*)::int`,
          trueAlarms: sql<number>`count(*) filter (where ${r.verdict} = 'true')::int`,
          falseAlarms: sql<number>`count(*) filter (where ${r.verdict} = 'false')::int`,
        })
        .from(e)
        .innerJoin(cameras, eq(cameras.id, e.cameraId))
        .leftJoin(r, eq(r.eventId, e.id))
        .where(and(sql`${e.current}`, gte(e.startAt, since)))
        // By position: the night's expression carries the zone as a parameter, and two parameters are two expressions.
        .groupBy(sql`1, 2`)
        .orderBy(sql`1, 2`)
    );
  }

  async get(id: number): Promise<Camera | undefined> {
    return this.db.query.cameras.findFirst({ where: (c, { eq }) => eq(c.id, id) });
  }

  /**
   * Sets (or, with null, removes) a camera's calibrated event threshold and
   * the scoring mode it was calibrated for, which the camera is then scored in.
   */
  async setCalibration(
    id: number,
    calibration: { threshold: number | null; scoringMode: ScoringMode | null },
  ): Promise<Camera | undefined> {
    const [updated] = await this.db.update(cameras).set(calibration).where(eq(cameras.id, id)).returning();
    return updated;
  }

  /** Sets a camera's share of processing (created if new). */
  async setWeight(name: string, weight: number): Promise<Camera> {
    const camera = await this.ensure(name);
    const [updated] = await this.db.update(cameras).set({ weight }).where(eq(cameras.id, camera.id)).returning();
    return updated ?? camera;
  }
}
