import type { ScoringMode } from '@vad/config';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type Camera, cameras, videos } from '../schema.js';

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
