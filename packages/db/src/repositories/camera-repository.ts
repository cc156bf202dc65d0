import { sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type Camera, cameras } from '../schema.js';

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
}
