import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '@vad/models';
import { generateVideo } from './video-fixtures.js';

/**
 * Anomalies no prompt names: a full-frame tint the tiny test model sees (it
 * maps the mean colour to its embedding) but that lies near none of the
 * prompt set's classes, so zero-shot scoring gives it the score of the
 * normal grey around it. Each is an offset from the scene's grey level.
 */
export const UNNAMED_ANOMALIES = {
  /** A violet cast (red and blue up, green down). */
  Violet: [0.1, -0.08, 0.1],
  /** A teal cast (green and blue up, red down). */
  Teal: [-0.1, 0.06, 0.06],
} as const;
export type UnnamedAnomaly = keyof typeof UNNAMED_ANOMALIES;

export interface LabelledVideo {
  name: string;
  path: string;
  label: 'normal' | 'anomalous';
  className: UnnamedAnomaly | undefined;
  /** The anomalous intervals, seconds from the start (one per anomalous video; none for a normal one). */
  intervals: { startS: number; endS: number }[];
}

export interface LabelledFootageOptions {
  /** Folder the files are written to (created). */
  dir: string;
  normal: number;
  anomalous: number;
  /** Default 30 s. */
  durationS?: number;
  /** Names are `<prefix>-normal-03.mp4`, `<prefix>-anomalous-01.mp4`. Default `scene`. */
  prefix?: string;
  seed?: number;
  /** Anomaly kinds, used in turn. Default both. */
  kinds?: readonly UnnamedAnomaly[];
}

const hex = (rgb: readonly number[]) =>
  `0x${rgb
    .map((v) =>
      Math.round(Math.min(1, Math.max(0, v)) * 255)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;

/**
 * A labelled set of generated surveillance-like videos with known ground
 * truth, for training and scoring tests: every scene a plain grey of its
 * own level (0.38–0.58) and faint tint, half the normal ones with a
 * lighting change partway (normal variation a head must not flag); each
 * anomalous one with one interval (a fifth to a third of it) of an
 * unnamed tint (UNNAMED_ANOMALIES). Small (160×120, 5 fps) so a test
 * ingests dozens in seconds. Seeded: the same options give the same set.
 */
export async function generateLabelledFootage(options: LabelledFootageOptions): Promise<LabelledVideo[]> {
  const random = new SeededRandom(options.seed ?? 1);
  const durationS = options.durationS ?? 30;
  const prefix = options.prefix ?? 'scene';
  const kinds = options.kinds ?? (Object.keys(UNNAMED_ANOMALIES) as UnnamedAnomaly[]);
  await mkdir(options.dir, { recursive: true });
  const plan: { label: 'normal' | 'anomalous'; n: number }[] = [
    ...Array.from({ length: options.normal }, (_, n) => ({ label: 'normal' as const, n })),
    ...Array.from({ length: options.anomalous }, (_, n) => ({ label: 'anomalous' as const, n })),
  ];
  const videos: LabelledVideo[] = [];
  for (const { label, n } of plan) {
    const grey = 0.38 + 0.2 * random.uniform();
    const base = [0, 1, 2].map(() => grey + 0.04 * (random.uniform() - 0.5));
    const filters: string[] = [];
    if (label === 'normal' && n % 2 === 1) {
      // Clouds or a light switched on: the whole scene a little brighter or darker from some point on.
      const from = Math.round(durationS * (0.3 + 0.4 * random.uniform()));
      const shift = (random.uniform() < 0.5 ? -1 : 1) * 0.07;
      filters.push(`drawbox=x=0:y=0:w=iw:h=ih:color=${hex(base.map((v) => v + shift))}:t=fill:enable='gte(t,${from})'`);
    }
    let className: UnnamedAnomaly | undefined;
    const intervals: { startS: number; endS: number }[] = [];
    if (label === 'anomalous') {
      className = kinds[n % kinds.length] as UnnamedAnomaly;
      const length = Math.round(durationS * (0.2 + 0.13 * random.uniform()));
      const startS = Math.round((durationS - length) * (0.15 + 0.7 * random.uniform()));
      const endS = startS + length;
      intervals.push({ startS, endS });
      const offset = UNNAMED_ANOMALIES[className];
      filters.push(
        `drawbox=x=0:y=0:w=iw:h=ih:color=${hex(base.map((v, c) => v + (offset[c] as number)))}:t=fill:enable='between(t,${startS},${endS})'`,
      );
    }
    const name = `${prefix}-${label}-${String(n + 1).padStart(2, '0')}`;
    const path = join(options.dir, `${name}.mp4`);
    await generateVideo(path, {
      durationS,
      width: 160,
      height: 120,
      fps: 5,
      source: `color=c=${hex(base)}`,
      ...(filters.length ? { filters: filters.join(',') } : {}),
    });
    videos.push({ name, path, label, className, intervals });
  }
  return videos;
}

/** A labels file for `vad train --labels`: `video,label,class`. */
export function labelsCsv(videos: readonly LabelledVideo[]): string {
  return ['video,label,class', ...videos.map((v) => `${v.name},${v.label},${v.className ?? ''}`)].join('\n');
}

/** A frame-labels file for `vad train --frame-labels`: `video,start_s,end_s,class` per anomalous interval. */
export function frameLabelsCsv(videos: readonly LabelledVideo[]): string {
  return [
    'video,start_s,end_s,class',
    ...videos.flatMap((v) => v.intervals.map((i) => `${v.name},${i.startS},${i.endS},${v.className ?? ''}`)),
  ].join('\n');
}
