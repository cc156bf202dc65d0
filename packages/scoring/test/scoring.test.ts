import { describe, expect, it } from 'vitest';
import {
  attentionAggregator,
  buildClassSpace,
  cutClips,
  expandPrompts,
  extractEvents,
  frameScores,
  meanAggregator,
  promptSetSchema,
  scoreFeature,
  smoothScores,
  type TimedScore,
  UCF_CRIME_PROMPTS,
} from '../src/index.js';

const v = (...xs: number[]) => new Float32Array(xs);
// A 3-d toy space: axis 0 = normal, axis 1 = fire, axis 2 = fighting.
const NORMAL = v(1, 0, 0);
const FIRE = v(0, 1, 0);
const space = buildClassSpace(
  {
    classes: ['Normal', 'Explosion', 'Fighting'],
    normalIndex: 0,
    prompts: ['n', 'e1', 'e2', 'f'],
    classOf: [0, 1, 1, 2],
  },
  [NORMAL, v(0.1, 1, 0), v(-0.1, 1, 0), v(0, 0, 1)],
  100,
);

describe('prompt sets', () => {
  it('expands the default UCF-Crime set: normal + 13 classes, every phrase in every template', () => {
    const list = expandPrompts(UCF_CRIME_PROMPTS);
    expect(list.classes).toHaveLength(14);
    expect(list.classes[list.normalIndex]).toBe('Normal');
    expect(list.prompts).toContain('a surveillance video of an explosion');
    const phrases = Object.values(UCF_CRIME_PROMPTS.classes).flat().length;
    expect(list.prompts).toHaveLength(phrases * UCF_CRIME_PROMPTS.templates.length);
  });

  it('validates a prompt set from a file, naming what is wrong', () => {
    const bad = promptSetSchema.safeParse({
      name: 'x',
      templates: ['no slot'],
      normal: 'Calm',
      classes: { Fire: ['fire'] },
    });
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages).toEqual(
      expect.arrayContaining([
        'templates.0: each template needs a {} where the phrase goes',
        'normal: the normal class must be one of the classes',
      ]),
    );
  });
});

describe('class scores', () => {
  it('averages each class’s prompts into one unit vector', () => {
    expect(Array.from(space.embeddings[1] ?? [])).toEqual([0, 1, 0]);
  });

  it('anomaly score is 1 − p(normal) and the label is the likeliest abnormal class', () => {
    const fire = scoreFeature(v(0.1, 1, 0.05), space);
    expect(fire.anomalyScore).toBeGreaterThan(0.99);
    expect(fire.label).toBe('Explosion');
    const calm = scoreFeature(v(1, 0.05, 0), space);
    expect(calm.anomalyScore).toBeLessThan(0.01);
    expect(calm.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
  });
});

describe('aggregators', () => {
  // An 8-frame clip with a 2-frame incident.
  const frames = [NORMAL, NORMAL, NORMAL, FIRE, FIRE, NORMAL, NORMAL, NORMAL];
  const [clip] = cutClips(frames, 8, 8);

  it('mean averages the incident away; attention keeps it', () => {
    if (!clip) throw new Error('no clip');
    expect(scoreFeature(meanAggregator(clip, space), space).anomalyScore).toBeLessThan(0.5);
    const attended = scoreFeature(attentionAggregator(10)(clip, space), space);
    expect(attended.anomalyScore).toBeGreaterThan(0.5);
    expect(attended.label).toBe('Explosion');
  });

  it('mean ignores padding repeats, so a padded clip scores like its distinct frames', () => {
    const [padded] = cutClips([NORMAL, NORMAL, FIRE], 8, 8); // f0 f1 f2 f0 f1 f2 f0 f1: repeats favour normal
    if (!padded) throw new Error('no clip');
    const feature = meanAggregator(padded, space);
    expect(feature[1]).toBeCloseTo((feature[0] as number) / 2, 5);
  });
});

describe('smoothing and events', () => {
  const clip = (i: number, score: number, label = 'Explosion'): TimedScore => ({
    startMs: i * 4000,
    endMs: i * 4000 + 8000,
    score,
    label,
  });

  it('smooths with a centred moving average', () => {
    expect(smoothScores([0, 0, 3, 0, 0], 3)).toEqual([0, 1, 1, 1, 0]);
    expect(smoothScores([1, 2], 1)).toEqual([1, 2]);
  });

  it('turns runs above the threshold into events with their peak, merges close ones, drops short ones', () => {
    const clips = [clip(0, 0.1), clip(1, 0.7), clip(2, 0.9, 'Arson'), clip(3, 0.2), clip(4, 0.6), clip(10, 0.8)];
    const events = extractEvents(clips, { threshold: 0.5, minDurationMs: 9000, mergeGapMs: 5000 });
    // Clips 1–2 and 4 overlap or lie within 5 s: one event 4 s–24 s; clip 10 alone is 8 s long, below 9 s.
    expect(events).toEqual([{ startMs: 4000, endMs: 24000, peakMs: 12000, peakScore: 0.9, label: 'Arson' }]);
  });

  it('never returns overlapping events, whatever the order and values of the clips (property)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 300; trial++) {
      const clips = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => clip(i, random()));
      const options = {
        threshold: random(),
        minDurationMs: Math.floor(random() * 10_000),
        mergeGapMs: Math.floor(random() * 10_000),
      };
      const events = extractEvents(clips, options);
      for (let k = 1; k < events.length; k++) {
        expect(events[k]!.startMs).toBeGreaterThan(events[k - 1]!.endMs + options.mergeGapMs);
      }
      for (const e of events) {
        expect(e.endMs - e.startMs).toBeGreaterThanOrEqual(options.minDurationMs);
        expect(e.peakMs).toBeGreaterThanOrEqual(e.startMs);
        expect(e.peakMs).toBeLessThanOrEqual(e.endMs);
        expect(e.peakScore).toBeGreaterThanOrEqual(options.threshold);
      }
      const shuffled = [...clips].sort(() => random() - 0.5);
      expect(extractEvents(shuffled, options)).toEqual(events);
    }
  });

  it('gives each frame the highest score of the clips that contain it', () => {
    const clips = cutClips([0, 1, 2, 3, 4, 5], 4, 2).map((c, i) => ({ ...c, score: [0.1, 0.9, 0.3][i] ?? 0 }));
    expect(frameScores(6, clips)).toEqual([0.1, 0.1, 0.9, 0.9, 0.9, 0.9]);
  });
});
