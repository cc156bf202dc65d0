import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';

/** The label of a video with no anomaly. */
export const NORMAL = 'normal';

export type IntervalUnit = 'frame' | 's';

/**
 * An anomalous stretch of a video. Frame numbers are 0-based and the end is
 * exclusive: `start end` marks frames start ≤ i < end, as the reference
 * evaluation code of the UCF-Crime and XD-Violence papers does (`gt[s:e] = 1`).
 * Seconds mark the frames whose time lies in [start, end).
 */
export interface GroundTruthInterval {
  start: number;
  end: number;
  unit: IntervalUnit;
  /** The frame rate frame numbers count at (XD-Violence: 24); unset = the video's own frame rate. */
  fps?: number | undefined;
}

export interface GroundTruthVideo {
  /** The name as written in the file, less any folder. */
  name: string;
  /** `normal`, or the anomaly class (the first one when the video has several). */
  label: string;
  /** Every anomaly class of the video (an XD-Violence video has up to three); empty for a normal video. */
  classes: string[];
  intervals: GroundTruthInterval[];
  /** Where it was read, `file:line` (several after merging). */
  sources: string[];
}

export interface GroundTruth {
  /** Keyed by the name in lower case. */
  videos: Map<string, GroundTruthVideo>;
}

export type GroundTruthFormat = 'ucf' | 'xd' | 'csv' | 'json';
export const GROUND_TRUTH_FORMATS: readonly GroundTruthFormat[] = ['ucf', 'xd', 'csv', 'json'];

/** An annotation file that cannot be read as ground truth: the message names the file and line. */
export class GroundTruthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroundTruthError';
  }
}

/** XD-Violence's label codes (in the video name after `label_`); `0` fills unused places, `A` is normal. */
export const XD_VIOLENCE_CLASSES: Readonly<Record<string, string>> = {
  B1: 'Fighting',
  B2: 'Shooting',
  B4: 'Riot',
  B5: 'Abuse',
  B6: 'Car accident',
  G: 'Explosion',
};

/** XD-Violence's annotations count frames at 24 fps (every video of the data set was converted to 24 fps). */
export const XD_VIOLENCE_FPS = 24;

const isNormalClass = (name: string) => name === '' || name.toLowerCase() === NORMAL;

/** The name a ground-truth line gives, less any folder (list files may hold paths). */
const nameOf = (raw: string) => raw.split(/[\\/]/).at(-1) ?? raw;

/**
 * Adds a video to the ground truth, merging it with an entry of the same
 * name (a CSV row per interval, or an XD-Violence list line and its
 * annotation line): the labels must agree.
 */
export function addVideo(truth: GroundTruth, video: GroundTruthVideo): void {
  const key = video.name.toLowerCase();
  const existing = truth.videos.get(key);
  truth.videos.set(key, existing ? mergeVideos(existing, video) : video);
}

/** Two entries of one video merged; a normal entry and an anomalous one (or two classes) disagree. */
export function mergeVideos(a: GroundTruthVideo, b: GroundTruthVideo): GroundTruthVideo {
  const sameClasses = a.classes.length === b.classes.length && a.classes.every((c) => b.classes.includes(c));
  if (a.label !== b.label || !sameClasses) {
    throw new GroundTruthError(
      `${b.sources.join(', ')}: ${b.name} is ${describe(b)} here but ${describe(a)} at ${a.sources.join(', ')}`,
    );
  }
  return { ...a, intervals: [...a.intervals, ...b.intervals], sources: [...a.sources, ...b.sources] };
}

const describe = (v: GroundTruthVideo) => (v.label === NORMAL ? 'normal' : `of class ${v.classes.join('+')}`);

/** The format of an annotation file: by extension (.csv, .json), else by its first line's second field. */
export function detectFormat(file: string, text: string): GroundTruthFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return 'json';
  const first = text.split(/\r?\n/).find((line) => line.trim() && !line.trim().startsWith('#'));
  if (!first) throw new GroundTruthError(`${file}: no annotation in it`);
  if (first.includes(',')) return 'csv';
  const second = first.trim().split(/\s+/)[1];
  // UCF-Crime: `name Class s1 e1 …`; XD-Violence: `name s1 e1 …`, or a name alone (a list of videos).
  return second !== undefined && !/^-?\d+$/.test(second) ? 'ucf' : 'xd';
}

/** Reads annotation files (formats detected unless given) into one ground truth; a video in several files is merged. */
export async function readGroundTruth(files: string | readonly string[], format?: GroundTruthFormat) {
  const truth: GroundTruth = { videos: new Map() };
  for (const file of typeof files === 'string' ? [files] : files) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new GroundTruthError(`${file}: cannot be read (${error.code ?? error.message})`);
    });
    for (const video of parseGroundTruth(text, file, format).videos.values()) addVideo(truth, video);
  }
  return truth;
}

/** Parses one annotation file's text; `file` names it in errors. */
export function parseGroundTruth(text: string, file: string, format?: GroundTruthFormat): GroundTruth {
  const chosen = format ?? detectFormat(file, text);
  switch (chosen) {
    case 'ucf':
      return parseUcfCrime(text, file);
    case 'xd':
      return parseXdViolence(text, file);
    case 'csv':
      return parseCsv(text, file);
    case 'json':
      return parseJson(text, file);
  }
}

/** Non-empty lines that are not `#` comments, with their 1-based numbers. */
function* lines(text: string): Generator<{ line: number; fields: string[]; raw: string }> {
  const all = text.split(/\r?\n/);
  for (const [i, raw] of all.entries()) {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    yield { line: i + 1, fields: trimmed.split(/\s+/), raw: trimmed };
  }
}

/** Frame numbers in pairs, `-1 -1` for an unused pair (UCF-Crime). */
function framePairs(
  numbers: readonly string[],
  where: string,
  options: { allowUnused: boolean; fps?: number },
): GroundTruthInterval[] {
  if (numbers.length % 2 !== 0) {
    throw new GroundTruthError(`${where}: expected an even number of frame numbers, got ${numbers.length}`);
  }
  const intervals: GroundTruthInterval[] = [];
  for (let i = 0; i < numbers.length; i += 2) {
    const [s, e] = [numbers[i] as string, numbers[i + 1] as string];
    for (const value of [s, e]) {
      if (!/^-?\d+$/.test(value)) throw new GroundTruthError(`${where}: "${value}" is not a frame number`);
    }
    const start = Number(s);
    const end = Number(e);
    if (options.allowUnused && start === -1 && end === -1) continue;
    if (start < 0 || end < 0) {
      throw new GroundTruthError(
        `${where}: frame numbers must be 0 or more${options.allowUnused ? ' (-1 -1 for an unused pair)' : ''}, got ${s} ${e}`,
      );
    }
    if (end < start) throw new GroundTruthError(`${where}: interval ends (frame ${end}) before it starts (${start})`);
    intervals.push({ start, end, unit: 'frame', ...(options.fps ? { fps: options.fps } : {}) });
  }
  return intervals;
}

/**
 * UCF-Crime's Temporal_Anomaly_Annotation_for_Testing_Videos.txt:
 * `Arrest001_x264.mp4  Arrest  1720  2000  -1  -1`: the video, its class
 * (`Normal` for a normal video), then start/end frame pairs at the video's
 * own frame rate, `-1 -1` for an unused pair.
 */
export function parseUcfCrime(text: string, file: string): GroundTruth {
  const truth: GroundTruth = { videos: new Map() };
  for (const { line, fields } of lines(text)) {
    const where = `${file}:${line}`;
    const [rawName, className, ...numbers] = fields;
    if (!rawName || !className || /^-?\d+$/.test(className)) {
      throw new GroundTruthError(`${where}: expected "name class start end [start end …]"`);
    }
    const intervals = framePairs(numbers, where, { allowUnused: true });
    const normal = isNormalClass(className);
    if (normal && intervals.length) {
      throw new GroundTruthError(`${where}: a Normal video with anomalous frames (its pairs must be -1 -1)`);
    }
    if (!normal && !intervals.length) {
      throw new GroundTruthError(`${where}: class ${className} but no anomalous interval (every pair is -1 -1)`);
    }
    addVideo(truth, {
      name: nameOf(rawName),
      label: normal ? NORMAL : className,
      classes: normal ? [] : [className],
      intervals,
      sources: [where],
    });
  }
  return truth;
}

/** The classes of an XD-Violence video from its name (`…_label_B2-G-0`); no label in the name gives `undefined`. */
export function xdViolenceClasses(name: string, where: string): string[] | undefined {
  const match = /_label_([A-Za-z0-9-]+?)(?:\.[A-Za-z0-9]+)?$/.exec(name);
  if (!match) return undefined;
  const codes = (match[1] as string).split('-').filter((code) => code !== '0');
  if (codes.length === 1 && codes[0] === 'A') return [];
  return codes.map((code) => {
    const name = XD_VIOLENCE_CLASSES[code];
    if (!name) {
      throw new GroundTruthError(
        `${where}: unknown XD-Violence label "${code}" (A normal, ${Object.entries(XD_VIOLENCE_CLASSES)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')})`,
      );
    }
    return name;
  });
}

/**
 * XD-Violence's annotations.txt: `name s1 e1 [s2 e2 …]`, frame numbers at
 * 24 fps, one line per violent video; the classes are in the name
 * (`…_label_B2-G-0`; `label_A` is normal). A line with a name alone lists a
 * video without intervals (the test list has every video, normal ones too):
 * pass the list as a second annotation file, or append it, so the normal
 * videos are evaluated. A listed violent video must have its intervals in
 * some file. A name without `_label_` is anomalous (class `Anomaly`) when it
 * has intervals and normal when it has none.
 */
export function parseXdViolence(text: string, file: string): GroundTruth {
  const truth: GroundTruth = { videos: new Map() };
  for (const { line, fields } of lines(text)) {
    const where = `${file}:${line}`;
    const [rawName, ...numbers] = fields;
    const name = nameOf(rawName as string);
    const intervals = framePairs(numbers, where, { allowUnused: false, fps: XD_VIOLENCE_FPS });
    const classes = xdViolenceClasses(name, where) ?? (intervals.length ? ['Anomaly'] : []);
    if (!classes.length && intervals.length) {
      throw new GroundTruthError(`${where}: ${name} is normal (label_A) but has anomalous frames`);
    }
    addVideo(truth, { name, label: classes[0] ?? NORMAL, classes, intervals, sources: [where] });
  }
  return truth;
}

/** One CSV record's cells (RFC 4180 quoting: "a, b" and "say ""hi"""). */
function csvCells(line: string, where: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new GroundTruthError(`${where}: unterminated quoted field`);
  cells.push(cell.trim());
  return cells;
}

/**
 * A CSV of intervals in seconds: `video,start_s,end_s,class`, one row per
 * interval (a video with several has several rows); empty start and end mark
 * a normal video (class empty or `normal`). A header row naming the columns
 * is optional; with one, the columns may come in any order.
 */
export function parseCsv(text: string, file: string): GroundTruth {
  const truth: GroundTruth = { videos: new Map() };
  let columns = { video: 0, start: 1, end: 2, class: 3 };
  let first = true;
  for (const { line, raw } of lines(text)) {
    const where = `${file}:${line}`;
    const cells = csvCells(raw, where);
    if (first) {
      first = false;
      const header = cells.map((c) => c.toLowerCase());
      if (header.includes('video')) {
        const find = (...names: string[]) => header.findIndex((h) => names.includes(h));
        columns = {
          video: find('video'),
          start: find('start_s', 'start'),
          end: find('end_s', 'end'),
          class: find('class'),
        };
        if (columns.start < 0 || columns.end < 0) {
          throw new GroundTruthError(`${where}: the header needs the columns video, start_s, end_s (class optional)`);
        }
        continue;
      }
    }
    const cell = (i: number) => (i >= 0 ? (cells[i] ?? '') : '');
    const name = nameOf(cell(columns.video));
    if (!name) throw new GroundTruthError(`${where}: no video name`);
    const [start, end, className] = [cell(columns.start), cell(columns.end), cell(columns.class)];
    if (!start && !end) {
      if (!isNormalClass(className)) {
        throw new GroundTruthError(
          `${where}: class ${className} needs start_s and end_s (empty ones mark a normal video)`,
        );
      }
      addVideo(truth, { name, label: NORMAL, classes: [], intervals: [], sources: [where] });
      continue;
    }
    const seconds = [start, end].map((value) => {
      const n = value === '' ? Number.NaN : Number(value);
      if (!Number.isFinite(n) || n < 0) {
        throw new GroundTruthError(`${where}: "${value}" is not a time in seconds (0 or more)`);
      }
      return n;
    }) as [number, number];
    if (seconds[1] <= seconds[0]) {
      throw new GroundTruthError(`${where}: interval ends (${end} s) before or where it starts (${start} s)`);
    }
    const label = isNormalClass(className) ? 'Anomaly' : className;
    addVideo(truth, {
      name,
      label,
      classes: [label],
      intervals: [{ start: seconds[0], end: seconds[1], unit: 's' }],
      sources: [where],
    });
  }
  return truth;
}

const jsonSchema = z.array(
  z.object({
    video: z.string().min(1),
    class: z.string().optional(),
    intervals: z
      .array(
        z
          .tuple([z.number().min(0), z.number().min(0)])
          .refine(([s, e]) => e > s, { message: 'an interval must end after it starts' }),
      )
      .default([]),
  }),
);

/**
 * JSON: `[{"video": "Arrest001_x264", "class": "Arrest", "intervals": [[12.5, 30], …]}, …]`,
 * intervals in seconds; a video without intervals is normal (its class absent or `normal`).
 */
export function parseJson(text: string, file: string): GroundTruth {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GroundTruthError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = jsonSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new GroundTruthError(`${file}: ${path.replace(/^\./, '') || 'top level'}: ${issue?.message}`);
  }
  const truth: GroundTruth = { videos: new Map() };
  for (const [i, entry] of parsed.data.entries()) {
    const where = `${file}:[${i}]`;
    const className = entry.class ?? '';
    const normal = entry.intervals.length === 0;
    if (normal && !isNormalClass(className)) {
      throw new GroundTruthError(`${where}: class ${className} but no intervals (a video without them is normal)`);
    }
    const label = normal ? NORMAL : isNormalClass(className) ? 'Anomaly' : className;
    addVideo(truth, {
      name: nameOf(entry.video),
      label,
      classes: normal ? [] : [label],
      intervals: entry.intervals.map(([start, end]) => ({ start, end, unit: 's' as const })),
      sources: [where],
    });
  }
  return truth;
}

/** The stem a video file is matched by: its base name, and without its extension. */
export function videoNameKeys(sourceUri: string): string[] {
  const base = basename(sourceUri.replace(/\\/g, '/')).toLowerCase();
  const ext = extname(base);
  return ext && ext !== base ? [base, base.slice(0, -ext.length)] : [base];
}
