import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Browser-playable event clips under the storage root:
 * `clips/<video>/<run>/<event>.mp4`, made on first request (see the API's
 * GET /v1/events/{id}/clip) and kept as a cache. They go with their run
 * (a rescore replacing it), their video, and retention.
 */
export class EventClipStore {
  constructor(readonly root: string) {}

  /** Path relative to the storage root. */
  relativePath(videoId: string, runId: string, eventId: number | string): string {
    return join('clips', videoId, runId, `${eventId}.mp4`);
  }

  absolutePath(videoId: string, runId: string, eventId: number | string): string {
    return join(this.root, this.relativePath(videoId, runId, eventId));
  }

  /** Removes every clip of the video. */
  async deleteVideo(videoId: string): Promise<void> {
    await rm(join(this.root, 'clips', videoId), { recursive: true, force: true });
  }

  /** Removes the clips of one scoring run of the video. */
  async deleteRun(videoId: string, runId: string): Promise<void> {
    await rm(join(this.root, 'clips', videoId, runId), { recursive: true, force: true });
  }

  /** Removes one event's clip (and any part file left of it by a process that died making it). */
  async deleteEvent(videoId: string, runId: string, eventId: number | string): Promise<void> {
    const folder = join(this.root, 'clips', videoId, runId);
    const names = await readdir(folder).catch(() => [] as string[]);
    const clip = `${eventId}.mp4`;
    for (const name of names) {
      if (name === clip || (name.startsWith(`${clip}.`) && name.endsWith('.part'))) {
        await rm(join(folder, name), { force: true });
      }
    }
  }
}
