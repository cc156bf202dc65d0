import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, createLogger } from '@vad/config';
import { buildModel, TINY_CAPTIONS } from '@vad/models';
import {
  createTestConfig,
  createTestDatabase,
  generateIncidentVideo,
  seedScoredVideo,
  type TestDatabase,
} from '@vad/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaptionService, pipelineConfigOf } from '../src/index.js';

/** The caption stage on vad's tiny synthetic test captioner: a known sentence for a known colour. */
let database: TestDatabase;
let config: Config;
const logger = createLogger({ log: { level: 'silent' } }, 'test');

const solidJpeg = (rgb: [number, number, number]) =>
  sharp({ create: { width: 320, height: 180, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg()
    .toBuffer();

const event = (peakMs: number, peakScore: number, thumbnailPath: string | null) => ({
  startMs: peakMs - 2000,
  endMs: peakMs + 2000,
  peakMs,
  startAt: null,
  endAt: null,
  peakScore,
  label: 'Arson',
  thumbnailPath,
});

beforeAll(async () => {
  database = await createTestDatabase();
  config = createTestConfig({
    databaseUrl: database.url,
    redisUrl: 'redis://127.0.0.1:6379',
    prefix: '{vad-caption-test}',
    env: { VAD_MODEL: 'vad-test-tiny', VAD_CAPTIONER: 'vad-test-captioner', VAD_CAPTION_MAX_PER_DAY: '3' },
  });
  await buildModel('vad-test-captioner', config.models.dir);
  await mkdir(join(config.storage.root, 'thumbnails', 'seeded'), { recursive: true });
  await writeFile(join(config.storage.root, 'thumbnails', 'seeded', 'fire.jpg'), await solidJpeg([240, 80, 15]));
  await writeFile(join(config.storage.root, 'thumbnails', 'seeded', 'fight.jpg'), await solidJpeg([50, 180, 60]));
  // A video whose fire (12 to 20 s) an event points at without a thumbnail: its frame is decoded from the source.
  const source = await generateIncidentVideo(join(config.storage.root, 'yard.mp4'), {
    durationS: 30,
    from: 12,
    to: 20,
  });
  await seedScoredVideo(database.repos, {
    camera: 'yard',
    pipelineConfig: pipelineConfigOf(config),
    durationMs: 30_000,
    sourceUri: source,
    events: [
      event(16_000, 0.95, 'thumbnails/seeded/fire.jpg'),
      event(5_000, 0.9, 'thumbnails/seeded/fight.jpg'),
      event(15_000, 0.8, null),
      event(25_000, 0.7, null),
    ],
  });
}, 120_000);

afterAll(async () => {
  await database?.destroy();
});

describe('the caption stage', () => {
  it('is off without VAD_CAPTIONER', () => {
    expect(
      createCaptionService({ ...config, caption: { ...config.caption, captioner: undefined } }, database.repos, logger),
    ).toBeUndefined();
  });

  it('captions the highest-scoring events first, within the day budget, from thumbnails or the source', async () => {
    const captions = createCaptionService(config, database.repos, logger);
    if (!captions) throw new Error('no caption service');
    try {
      const first = await captions.service.captionEvents({ camera: 'yard' });
      expect(first).toEqual({ captioned: 3, overBudget: 1, failed: 0 });
      const events = await database.repos.scoring.findEvents({ order: 'score', limit: 10, camera: 'yard' });
      expect(events.map((e) => [e.peakScore.toFixed(2), e.caption])).toEqual([
        ['0.95', TINY_CAPTIONS.fire.text],
        ['0.90', TINY_CAPTIONS.green.text],
        // No thumbnail: the peak frame decoded from the source, inside its fire.
        ['0.80', TINY_CAPTIONS.fire.text],
        ['0.70', null],
      ]);
      // The budget is spent for the day: nothing more today.
      expect(await captions.service.captionEvents({ camera: 'yard' })).toEqual({
        captioned: 0,
        overBudget: 1,
        failed: 0,
      });
    } finally {
      await captions.close();
    }
  });

  it('makes captions searchable by words (full-text, stemmed)', async () => {
    const byWords = async (text: string) =>
      (await database.repos.scoring.findEvents({ order: 'score', limit: 10, captionText: text })).map((e) =>
        e.peakScore.toFixed(2),
      );
    expect(await byWords('smoke')).toEqual(['0.95', '0.80']);
    expect(await byWords('fight')).toEqual(['0.90']);
    expect(await byWords('"people fighting"')).toEqual(['0.90']);
    expect(await byWords('fire -wall')).toEqual([]);
    expect(await byWords('helicopter')).toEqual([]);
  });
});
