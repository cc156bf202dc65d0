import { join } from 'node:path';
import type { Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import sharp from 'sharp';

/** What the caption stage needs of an image captioner (ImageCaptioner of @vad/caption). */
export interface EventCaptioner {
  readonly name: string;
  caption(
    images: ({ path: string } | { rgb: Uint8Array; width: number; height: number })[],
  ): Promise<{ text: string }[]>;
}

export interface CaptionServiceDeps {
  repos: Pick<Repositories, 'scoring'>;
  /** The configured captioner, loaded on first use. */
  captioner: () => Promise<EventCaptioner>;
  /** The frame of a video at `timeMs`, as an image file's bytes (extractFrameAt of @vad/video). */
  frameAt: (sourceUri: string, timeMs: number) => Promise<Buffer>;
  storageRoot: string;
  /** At most this many captions in any 24 hours: the cost stays bounded whatever a night brings. */
  maxPerDay: number;
  logger: Logger;
  now?: () => Date;
}

export interface CaptionResult {
  captioned: number;
  /** Events left without a caption because the day's budget was spent. */
  overBudget: number;
  failed: number;
}

/**
 * The caption stage after aggregation: a sentence for each new event's peak
 * frame (its thumbnail, or the frame decoded from the source), highest
 * scores first, within a budget of VAD_CAPTION_MAX_PER_DAY captions a day —
 * a cascade: CLIP scored every frame, the captioner only looks where it
 * found something. A caption that fails leaves the event uncaptioned and
 * logs why; it never fails the video.
 */
export class CaptionService {
  constructor(private readonly deps: CaptionServiceDeps) {}

  /** Captions the events of a scoring run (or, with a camera/since/limit, any uncaptioned ones: a backfill). */
  async captionEvents(query: {
    runId?: string;
    camera?: string;
    since?: Date;
    limit?: number;
    onProgress?: (done: number, total: number) => void;
  }): Promise<CaptionResult> {
    const { repos, logger } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const spent = await repos.scoring.countCaptionedSince(new Date(now.getTime() - 24 * 3_600_000));
    const budget = Math.max(0, this.deps.maxPerDay - spent);
    const events = await repos.scoring.uncaptionedEvents({ ...query, limit: query.limit ?? 1000 });
    const chosen = events.slice(0, budget);
    const result: CaptionResult = { captioned: 0, overBudget: events.length - chosen.length, failed: 0 };
    if (!chosen.length) return result;
    const captioner = await this.deps.captioner();
    for (const event of chosen) {
      try {
        const image = event.thumbnailPath
          ? { path: join(this.deps.storageRoot, event.thumbnailPath) }
          : await this.decodedFrame(event.sourceUri, event.peakMs);
        const [caption] = await captioner.caption([image]);
        const text = caption?.text.trim();
        if (!text) throw new Error('the captioner gave no text');
        await repos.scoring.setCaption(event.id, text, captioner.name);
        result.captioned++;
      } catch (error) {
        result.failed++;
        logger.warn({ err: error, eventId: event.id }, 'no caption for event');
      }
      query.onProgress?.(result.captioned + result.failed, chosen.length);
    }
    if (result.overBudget) {
      logger.info(
        { overBudget: result.overBudget, maxPerDay: this.deps.maxPerDay },
        'caption budget spent: events left uncaptioned (vad caption to do them later)',
      );
    }
    return result;
  }

  private async decodedFrame(sourceUri: string, timeMs: number) {
    const { data, info } = await sharp(await this.deps.frameAt(sourceUri, timeMs))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  }
}
