import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createRepositories,
  type DatabaseHandle,
  dropDatabase,
  type EventInput,
  migrateDatabase,
  type Repositories,
  reattachReviews,
} from '../src/index.js';

// @vad/testing depends on this package, so these tests make their own database.
const TEST_DATABASE_SERVER = process.env.VAD_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 1) + ms);

describe('reattachReviews', () => {
  const review = (id: number, startMs: number, endMs: number, reviewedAtMs = id) => ({
    id,
    startMs,
    endMs,
    reviewedAt: at(reviewedAtMs),
  });
  const event = (id: number, startMs: number, endMs: number) => ({ id, startMs, endMs });

  it('moves a review to the event overlapping its span most, by overlap length', () => {
    const placed = reattachReviews([review(1, 10_000, 20_000)], [event(7, 0, 12_000), event(8, 13_000, 30_000)]);
    expect(placed).toEqual(new Map([[1, 8]])); // 7000 ms against 2000 ms
  });

  it('gives a tie to the earlier event, whatever the order the events come in', () => {
    const events = [event(9, 15_000, 25_000), event(8, 0, 15_000)];
    expect(reattachReviews([review(1, 10_000, 20_000)], events)).toEqual(new Map([[1, 8]]));
  });

  it('detaches a review that no event overlaps (touching is not overlapping)', () => {
    expect(reattachReviews([review(1, 10_000, 20_000)], [event(8, 0, 10_000), event(9, 20_000, 30_000)])).toEqual(
      new Map([[1, null]]),
    );
    expect(reattachReviews([review(1, 10_000, 20_000)], [])).toEqual(new Map([[1, null]]));
  });

  it('keeps one review per event: the most recent, the others detached', () => {
    const reviews = [review(1, 0, 5_000, 300), review(2, 4_000, 9_000, 900), review(3, 6_000, 8_000, 100)];
    expect(reattachReviews(reviews, [event(5, 0, 10_000)])).toEqual(
      new Map([
        [1, null],
        [2, 5],
        [3, null],
      ]),
    );
    // Reviewed in the same instant: the newer review (higher id) keeps it.
    expect(reattachReviews([review(4, 0, 5_000, 1), review(3, 0, 5_000, 1)], [event(5, 0, 10_000)])).toEqual(
      new Map([
        [4, 5],
        [3, null],
      ]),
    );
  });
});

describe('event reviews', () => {
  const url = `${TEST_DATABASE_SERVER}/vad_test_${randomBytes(5).toString('hex')}`;
  let handle: DatabaseHandle;
  let repos: Repositories;
  let cameraId: number;

  beforeAll(async () => {
    await migrateDatabase(url);
    handle = createDatabase(url, { max: 4 });
    repos = createRepositories(handle.db);
    cameraId = (await repos.cameras.ensure('dock')).id;
  });
  afterAll(async () => {
    await handle?.close();
    await dropDatabase(url);
  });

  const recordedAt = new Date('2026-11-28T22:00:00Z');
  const eventAt = (startMs: number, endMs: number, label = 'Fighting'): EventInput => ({
    startMs,
    endMs,
    peakMs: startMs,
    startAt: new Date(recordedAt.getTime() + startMs),
    endAt: new Date(recordedAt.getTime() + endMs),
    peakScore: 0.9,
    label,
    thumbnailPath: null,
  });

  async function newVideo(camera: number | null = cameraId): Promise<string> {
    const { video } = await repos.videos.insertOrGet({
      cameraId: camera,
      sourceUri: `/footage/${randomUUID()}.mp4`,
      sha256: randomUUID(),
      bytes: 1,
      durationMs: 600_000,
      recordedAt,
      model: 'm',
      pipelineConfig: { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 16, clipStride: 8 },
      configHash: randomUUID(),
    });
    return video.id;
  }

  /** Saves a scoring run of the video (replacing the one of the same config hash); its events by start. */
  async function score(videoId: string, events: EventInput[], configHash = 'h', camera: number | null = cameraId) {
    const runId = randomUUID();
    await repos.scoring.saveRun(
      { id: runId, videoId, model: 'm', promptSet: 'p', aggregator: 'mean', params: {}, configHash },
      [],
      events,
      camera,
      { markVideoDone: true },
    );
    return repos.scoring.eventsOf(runId);
  }

  const reviewsOf = async (videoId: string) =>
    (await repos.reviews.list({ limit: 100 })).filter((r) => r.videoId === videoId).sort((a, b) => a.id - b.id);

  it('records a review with who and when, copying the event; reviewing again replaces it', async () => {
    const videoId = await newVideo();
    const [event] = await score(videoId, [eventAt(10_000, 20_000)]);
    if (!event) throw new Error('no event');
    const before = Date.now();
    const first = await repos.reviews.review(event.id, { verdict: 'false', note: 'a cat', reviewedBy: 'alice' });
    expect(first).toMatchObject({
      videoId,
      eventId: event.id,
      startMs: 10_000,
      endMs: 20_000,
      label: 'Fighting',
      verdict: 'false',
      note: 'a cat',
      reviewedBy: 'alice',
    });
    expect(first?.reviewedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    const second = await repos.reviews.review(event.id, { verdict: 'true', reviewedBy: 'bob' });
    expect(second).toMatchObject({ id: first?.id, verdict: 'true', note: null, reviewedBy: 'bob' });
    expect(second?.reviewedAt.getTime()).toBeGreaterThanOrEqual(first?.reviewedAt.getTime() ?? 0);
    expect(await repos.reviews.forEvent(event.id)).toEqual(second);
    expect(await reviewsOf(videoId)).toHaveLength(1);

    const listed = await repos.scoring.getEvent(event.id);
    expect(listed?.review).toEqual({
      verdict: 'true',
      note: null,
      reviewedBy: 'bob',
      reviewedAt: second?.reviewedAt,
    });
    expect(await repos.reviews.review(999_999_999, { verdict: 'true', reviewedBy: 'bob' })).toBeUndefined();

    expect(await repos.reviews.remove(event.id)).toBe(true);
    expect(await repos.reviews.remove(event.id)).toBe(false);
    expect(await repos.reviews.forEvent(event.id)).toBeUndefined();
    expect((await repos.scoring.getEvent(event.id))?.review).toBeNull();
  });

  it('keeps one review per event when operators review it at the same time', async () => {
    const videoId = await newVideo();
    const [event] = await score(videoId, [eventAt(0, 5_000)]);
    if (!event) throw new Error('no event');
    const reviews = await Promise.all(
      ['a', 'b', 'c', 'd'].map((who, i) =>
        repos.reviews.review(event.id, { verdict: i % 2 ? 'true' : 'false', reviewedBy: who }),
      ),
    );
    expect(new Set(reviews.map((r) => r?.id)).size).toBe(1);
    expect(await reviewsOf(videoId)).toHaveLength(1);
  });

  it('re-attaches reviews on a rescore: most overlap, ties to the earlier event, none → detached, one per event', async () => {
    const videoId = await newVideo();
    const events = await score(videoId, [
      eventAt(0, 10_000), // A
      eventAt(20_000, 30_000), // B
      eventAt(40_000, 50_000), // C
      eventAt(60_000, 70_000), // D
      eventAt(100_000, 110_000), // E
    ]);
    const [a, b, c, d, e] = events.map((event) => event.id) as [number, number, number, number, number];
    await repos.reviews.review(a, { verdict: 'true', reviewedBy: 'alice' });
    await repos.reviews.review(b, { verdict: 'false', reviewedBy: 'alice' });
    await repos.reviews.review(c, { verdict: 'false', note: 'older', reviewedBy: 'alice' });
    await repos.reviews.review(d, { verdict: 'true', note: 'newer', reviewedBy: 'bob' });
    await repos.reviews.review(e, { verdict: 'false', reviewedBy: 'bob' });

    // The same scoring config again: the run is replaced (its events deleted) by new events.
    const rescored = await score(videoId, [
      eventAt(2_000, 12_000), // A' overlaps A by 8 s
      eventAt(15_000, 25_000), // B1 overlaps B by 5 s: a tie with B2 …
      eventAt(25_000, 45_000), // B2 overlaps B by 5 s, C by 5 s
      eventAt(44_000, 75_000), // F overlaps C by 6 s and D by 10 s: both reviews want it
      // nothing near E any more
    ]);
    const [a1, b1, b2, f] = rescored.map((event) => event.id) as [number, number, number, number];
    const after = await reviewsOf(videoId);
    expect(after.map((r) => [r.startMs, r.eventId])).toEqual([
      [0, a1],
      [20_000, b1], // the tie goes to the earlier event
      [40_000, null], // its best, F, went to the more recent review of D: detached, not moved on
      [60_000, f],
      [100_000, null],
    ]);
    // A review keeps the span and label it was given on.
    expect(after.map((r) => r.endMs - r.startMs)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect((await repos.scoring.getEvent(f))?.review).toMatchObject({ verdict: 'true', note: 'newer' });
    expect((await repos.scoring.findEvents({ videoId, limit: 10, verdict: 'unreviewed' })).map((r) => r.id)).toEqual([
      b2,
    ]);
    expect((await repos.scoring.findEvents({ videoId, limit: 10, verdict: 'true' })).map((r) => r.id)).toEqual([f, a1]);
  });

  it('re-attaches when the rescore has another scoring config (earlier events stay, no longer current)', async () => {
    const videoId = await newVideo();
    const [old] = await score(videoId, [eventAt(0, 10_000)], 'first');
    if (!old) throw new Error('no event');
    await repos.reviews.review(old.id, { verdict: 'false', reviewedBy: 'alice' });
    const [fresh] = await score(videoId, [eventAt(1_000, 9_000)], 'second');
    if (!fresh) throw new Error('no event');
    expect((await repos.reviews.forEvent(fresh.id))?.reviewedBy).toBe('alice');
    expect(await repos.reviews.forEvent(old.id)).toBeUndefined();
    // A run with no events detaches every review; one with events again picks it up.
    await score(videoId, [], 'third');
    expect((await reviewsOf(videoId)).map((r) => r.eventId)).toEqual([null]);
    const [again] = await score(videoId, [eventAt(5_000, 20_000)], 'fourth');
    expect((await reviewsOf(videoId)).map((r) => r.eventId)).toEqual([again?.id]);
  });

  it('a review given while a rescore is being saved lands on an event of the new run', async () => {
    const videoId = await newVideo();
    const [event] = await score(videoId, [eventAt(0, 10_000)]);
    if (!event) throw new Error('no event');
    // Hold the video row as saveRun does, then review and rescore concurrently.
    const client = await handle.pool.connect();
    try {
      await client.query('begin');
      await client.query('select 1 from videos where id = $1 for update', [videoId]);
      const review = repos.reviews.review(event.id, { verdict: 'true', reviewedBy: 'alice' });
      const rescore = score(videoId, [eventAt(0, 10_000)]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.query('commit');
      const [reviewed, [fresh]] = await Promise.all([review, rescore]);
      // Either the review came first and was re-attached, or it found the event gone (undefined).
      const reviews = await reviewsOf(videoId);
      if (reviewed) expect(reviews.map((r) => r.eventId)).toEqual([fresh?.id]);
      else expect(reviews).toEqual([]);
    } finally {
      client.release();
    }
  });

  it('lists reviews and their spans by camera, verdict and time; a removed video takes its reviews along', async () => {
    const otherCamera = (await repos.cameras.ensure('lobby')).id;
    const videoId = await newVideo(otherCamera);
    const events = await score(
      videoId,
      [eventAt(0, 5_000, 'Fire'), eventAt(10_000, 15_000, 'Fighting')],
      'h',
      otherCamera,
    );
    const [fire, fight] = events as [(typeof events)[number], (typeof events)[number]];
    await repos.reviews.review(fire.id, { verdict: 'true', reviewedBy: 'alice' });
    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await repos.reviews.review(fight.id, { verdict: 'false', note: 'sparring', reviewedBy: 'bob' });

    expect((await repos.reviews.list({ cameraId: otherCamera, limit: 10 })).map((r) => r.eventId)).toEqual([
      fight.id,
      fire.id,
    ]);
    expect((await repos.reviews.list({ cameraId: otherCamera, limit: 1 })).map((r) => r.eventId)).toEqual([fight.id]);
    expect((await repos.reviews.list({ cameraId: otherCamera, since, limit: 10 })).map((r) => r.eventId)).toEqual([
      fight.id,
    ]);
    expect(
      (await repos.reviews.list({ cameraId: otherCamera, verdict: 'true', limit: 10 })).map((r) => r.eventId),
    ).toEqual([fire.id]);

    expect(await repos.reviews.spans({ cameraId: otherCamera })).toEqual([
      { videoId, startMs: 0, endMs: 5_000, label: 'Fire', verdict: 'true' },
      { videoId, startMs: 10_000, endMs: 15_000, label: 'Fighting', verdict: 'false' },
    ]);
    expect(await repos.reviews.spans({ videoIds: [videoId], verdict: 'false' })).toEqual([
      { videoId, startMs: 10_000, endMs: 15_000, label: 'Fighting', verdict: 'false' },
    ]);
    expect(await repos.reviews.spans({ videoIds: [] })).toEqual([]);
    // Spans outlive their events: a detached review is still a label.
    await score(videoId, [], 'h', otherCamera);
    expect(await repos.reviews.spans({ videoIds: [videoId] })).toHaveLength(2);

    expect(await repos.videos.delete(videoId)).toBe(true);
    expect(await repos.reviews.spans({ videoIds: [videoId] })).toEqual([]);
  });
});
