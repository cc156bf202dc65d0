import { randomUUID } from 'node:crypto';
import { eventReviews, frameEmbeddings, scoringRuns, toBytes, videos as videosTable } from '@vad/db';
import { useTestEnvironment } from '@vad/testing';
import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadTrainingSet,
  parseFrameLabels,
  parseLabels,
  TrainingDataError,
  TrainingRepository,
  type TrainingSetOptions,
} from '../src/index.js';

const t = useTestEnvironment({ tinyModel: false });
const MODEL = 'vad-test-tiny';
const D = 8;
// 4 frames per clip, a clip every 2 frames, 2 frames a second: clips start every second and last 2 s.
const pipelineConfig = { model: MODEL, inputSize: 224, sampleFps: 2, segmentFrames: 32, clipFrames: 4, clipStride: 2 };

/** A stored video of `frames` frames (every 500 ms), each frame's vector from `vector(i)`. */
async function storeVideo(
  sourceUri: string,
  frames: number,
  options: { camera?: string; model?: string; vector?: (i: number) => number[] } = {},
) {
  const camera = options.camera ? await t.db.repos.cameras.ensure(options.camera) : undefined;
  const model = options.model ?? MODEL;
  const { video } = await t.db.repos.videos.insertOrGet({
    sourceUri,
    sha256: randomUUID(),
    bytes: 1,
    model,
    pipelineConfig: { ...pipelineConfig, model },
    configHash: randomUUID(),
    status: 'done',
    cameraId: camera?.id ?? null,
  });
  const vector = options.vector ?? ((i: number) => Array.from({ length: D }, (_, k) => (k === i % D ? 1 : 0.1)));
  if (frames)
    await t.db.repos.frameEmbeddings.upsertMany(
      Array.from({ length: frames }, (_, i) => ({
        videoId: video.id,
        frameIndex: i,
        model,
        ptsMs: i * 500,
        embedding: toBytes(new Float32Array(vector(i))),
      })),
    );
  return video.id;
}

const ids: Record<string, string> = {};
const sources = () => {
  const repository = new TrainingRepository(t.db.db);
  return { repository, frameEmbeddings: t.db.repos.frameEmbeddings, reviews: t.db.repos.reviews };
};
const load = (options: Omit<TrainingSetOptions, 'model'>) => loadTrainingSet(sources(), { model: MODEL, ...options });
const labels = (text: string) => parseLabels(`video,label,class\n${text}`, 'labels.csv');

async function counts() {
  const [v] = await t.db.db.select({ n: count() }).from(videosTable);
  const [f] = await t.db.db.select({ n: count() }).from(frameEmbeddings);
  const [r] = await t.db.db.select({ n: count() }).from(scoringRuns);
  const [e] = await t.db.db.select({ n: count() }).from(eventReviews);
  return [v?.n, f?.n, r?.n, e?.n];
}

beforeAll(async () => {
  ids.quiet = await storeVideo('/footage/yard/Quiet-01.mp4', 20, { camera: 'yard' });
  ids.fight = await storeVideo('/footage/yard/fight-01.MKV', 20, { camera: 'yard' });
  ids.fire = await storeVideo('/footage/gate/fire-01.mp4', 20, { camera: 'gate' });
  ids.twinYard = await storeVideo('/footage/yard/twin.mp4', 20, { camera: 'yard' });
  ids.twinGate = await storeVideo('/footage/gate/twin.mp4', 20, { camera: 'gate' });
  ids.other = await storeVideo('/footage/gate/other-model.mp4', 20, { model: 'clip-vit-base-patch32' });
  ids.unembedded = await storeVideo('/footage/gate/never-embedded.mp4', 0);
  ids.removed = await storeVideo('/footage/gate/old.mp4', 20);
  await t.db.db
    .update(videosTable)
    .set({ embeddingsRemovedAt: new Date('2026-10-01T00:00:00Z') })
    .where(eq(videosTable.id, ids.removed as string));
});

describe('reading a training set from stored embeddings', () => {
  it('matches names like vad eval (base name, with or without extension, any case) and cuts clips as the aggregate stage', async () => {
    const set = await load({
      labels: labels('quiet-01,normal\nFIGHT-01.mkv,anomalous,Fighting\nfire-01.MP4,anomalous'),
    });
    expect(set.videos.map((v) => v.id)).toEqual([ids.quiet, ids.fight, ids.fire]);
    expect(set.classes).toEqual(['Normal', 'Fighting']);
    expect(set.namedClasses).toBe(true);
    expect(set.embeddingSize).toBe(D);
    // 20 frames, clips of 4 every 2: starts 0, 2, …, 16 → 9 clips, each the L2-normalised mean of its frames.
    const [quiet] = set.videos;
    expect(quiet?.clips).toBe(9);
    const first = Array.from(quiet?.features.slice(0, D) ?? []);
    const raw = Array.from({ length: D }, (_, k) => (k < 4 ? (1 + 0.3) / 4 : 0.1));
    const norm = Math.hypot(...raw);
    for (const [k, x] of first.entries()) expect(x).toBeCloseTo((raw[k] as number) / norm, 5);
    expect(set.videos.map((v) => [v.label, v.classIndex])).toEqual([
      [0, -1],
      [1, 1],
      [1, -1],
    ]);
  });

  it('a --camera picks among videos of the same name; without one, the ambiguity is an error naming the line', async () => {
    await expect(load({ labels: labels('twin,anomalous\nquiet-01,normal') })).rejects.toThrow(
      /labels\.csv:2: "twin" matches 2 videos: .*name the camera \(--camera\)/,
    );
    const set = await load({ labels: labels('twin,anomalous\nquiet-01,normal'), camera: 'yard' });
    expect(set.videos.map((v) => v.id)).toEqual([ids.twinYard, ids.quiet]);
  });

  it('frame labels give clip labels (anomalous when mostly inside, normal when outside, unknown between)', async () => {
    const frames = parseFrameLabels('video,start_s,end_s,class\nfire-01,4.25,6.75,Arson', 'frames.csv');
    const set = await load({ labels: labels('quiet-01,normal'), frameLabels: frames });
    const fire = set.videos.find((v) => v.id === ids.fire);
    // Clip c holds frames at 1000·c, +500, +1000, +1500 ms; the interval is 4250–6750 ms.
    expect(Array.from(fire?.clipLabels ?? [])).toEqual([0, 0, 0, -1, 1, 1, 1, 0, 0]);
    expect(fire).toMatchObject({ label: 1, annotated: true });
    expect(set.classes).toEqual(['Normal', 'Arson']);
  });

  it('reviews are labels: a confirmed event anomalous clips with its label, a false alarm normal ones', async () => {
    await t.db.db.insert(eventReviews).values([
      { videoId: ids.fight as string, startMs: 2000, endMs: 4000, label: 'Fighting', verdict: 'true', reviewedBy: 't' },
      { videoId: ids.quiet as string, startMs: 0, endMs: 2500, label: 'Arson', verdict: 'false', reviewedBy: 't' },
    ]);
    try {
      const set = await load({ useReviews: true });
      const fight = set.videos.find((v) => v.id === ids.fight);
      const quiet = set.videos.find((v) => v.id === ids.quiet);
      expect(fight).toMatchObject({ label: 1, annotated: false });
      expect(Array.from(fight?.clipLabels ?? []).slice(0, 5)).toEqual([-1, 1, 1, 1, -1]);
      expect(quiet?.label).toBeNull();
      expect(Array.from(quiet?.clipLabels ?? []).slice(0, 3)).toEqual([0, 0, -1]);
      expect(set.classes).toEqual(['Normal', 'Fighting']);
      // A video labelled normal that an operator confirmed an event in is a contradiction.
      await expect(load({ labels: labels('fight-01,normal'), useReviews: true })).rejects.toThrow(
        /labels\.csv:2: "fight-01" is labelled normal, but an operator confirmed its event at 2\.0–4\.0 s \(Fighting\)/,
      );
    } finally {
      await t.db.db.delete(eventReviews);
    }
  });

  it('bad input: every problem at once, each naming its line or video, and nothing stored changes', async () => {
    const before = await counts();
    const error = await load({
      labels: labels(
        [
          'nobody,normal',
          'other-model,anomalous',
          'never-embedded,normal',
          'old,anomalous',
          'quiet-01,normal',
          'Quiet-01.mp4,anomalous',
        ].join('\n'),
      ),
      frameLabels: parseFrameLabels('quiet-01,1,2', 'frames.csv'),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDataError);
    const problems = (error as TrainingDataError).problems;
    expect(problems).toEqual([
      'labels.csv:2: no video named "nobody"',
      'labels.csv:3: "other-model" was embedded with clip-vit-base-patch32, not with vad-test-tiny',
      'labels.csv:7: "Quiet-01.mp4" is the same video as labels.csv:6 ("quiet-01")',
      'labels.csv:6: "quiet-01" is labelled normal, but frames.csv:1 marks 1.0–2.0 s of it anomalous',
      `labels.csv:4: video "never-embedded" (${ids.unembedded}) has no frame embeddings of vad-test-tiny (status done)`,
      `labels.csv:5: video "old" (${ids.removed}) has no frame embeddings any more: retention removed them on 2026-10-01T00:00:00.000Z`,
    ]);
    expect(await counts()).toEqual(before);
  });

  it('bad files: each bad line named', () => {
    expect(() =>
      parseLabels('video,label\na,normal\nb,maybe\n,normal\nc,normal,Fire\nd,anomalous,x,y', 'l.csv'),
    ).toThrow(TrainingDataError);
    try {
      parseLabels('video,label\na,normal\nb,maybe\n,normal\nc,normal,Fire\nd,anomalous,x,y\na,anomalous', 'l.csv');
    } catch (error) {
      expect((error as TrainingDataError).problems).toEqual([
        'l.csv:3: label "maybe" is neither normal nor anomalous',
        'l.csv:4: no video name',
        'l.csv:5: a normal video has no anomaly class (got "Fire")',
        'l.csv:6: 4 fields, expected video,label[,class]',
        'l.csv:7: video "a" is labelled already on line 2',
      ]);
    }
    expect(() => parseFrameLabels('a,3,2', 'f.csv')).toThrow(
      'f.csv:1: end "2" is not a time in seconds after the start (3)',
    );
    expect(() => parseFrameLabels('a,x,2', 'f.csv')).toThrow('f.csv:1: start "x" is not a time in seconds (≥ 0)');
    // Quoted fields, comments and blank lines.
    expect(parseLabels('# our labels\n\n"a, the first",anomalous,"Road accident"\n', 'l.csv')).toEqual([
      { where: 'l.csv:3', video: 'a, the first', label: 1, className: 'Road accident' },
    ]);
  });
});
