import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectFormat,
  type GroundTruth,
  parseCsv,
  parseGroundTruth,
  parseJson,
  parseUcfCrime,
  parseXdViolence,
  readGroundTruth,
  videoNameKeys,
} from '../src/index.js';

const video = (truth: GroundTruth, name: string) => truth.videos.get(name.toLowerCase());

describe('UCF-Crime Temporal_Anomaly_Annotation_for_Testing_Videos.txt', () => {
  // As the file is: two spaces between fields, trailing spaces, names with and without .mp4.
  const text = [
    'Arrest001_x264.mp4  Arrest  1185  1485  -1  -1  ',
    'Arson011_x264  Arson  150  420  680  1267  ',
    '',
    'Normal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1  ',
  ].join('\r\n');

  it('reads class and frame pairs, -1 -1 for none; Normal is normal', () => {
    const truth = parseUcfCrime(text, 'ucf.txt');
    expect(truth.videos.size).toBe(3);
    expect(video(truth, 'Arrest001_x264.mp4')).toEqual({
      name: 'Arrest001_x264.mp4',
      label: 'Arrest',
      classes: ['Arrest'],
      intervals: [{ start: 1185, end: 1485, unit: 'frame' }],
      sources: ['ucf.txt:1'],
    });
    expect(video(truth, 'Arson011_x264')?.intervals.map((i) => [i.start, i.end])).toEqual([
      [150, 420],
      [680, 1267],
    ]);
    expect(video(truth, 'Normal_Videos_003_x264.mp4')).toMatchObject({ label: 'normal', classes: [], intervals: [] });
    expect(detectFormat('Temporal_Anomaly_Annotation_for_Testing_Videos.txt', text)).toBe('ucf');
  });

  it.each([
    ['Arrest001_x264.mp4  Arrest  1185  1485  -1', 'ucf.txt:2: expected an even number of frame numbers, got 3'],
    ['Arrest001_x264.mp4  Arrest  1185  x  -1  -1', 'ucf.txt:2: "x" is not a frame number'],
    ['Arrest001_x264.mp4  Arrest  1485  1185', 'ucf.txt:2: interval ends (frame 1185) before it starts (1485)'],
    ['Arrest001_x264.mp4  Arrest  -1  -1  -1  -1', 'ucf.txt:2: class Arrest but no anomalous interval'],
    ['Normal_Videos_003_x264.mp4  Normal  10  20', 'ucf.txt:2: a Normal video with anomalous frames'],
    ['Arrest001_x264.mp4  Arrest  10  -1', 'ucf.txt:2: frame numbers must be 0 or more'],
    ['Arrest001_x264.mp4', 'ucf.txt:2: expected "name class start end'],
  ])('a malformed line names the file and line: %s', (line, message) => {
    const good = 'Arson011_x264  Arson  150  420  -1  -1';
    expect(() => parseUcfCrime(`${good}\n${line}\n`, 'ucf.txt')).toThrow(message);
  });
});

describe('XD-Violence annotations.txt', () => {
  const text = [
    'Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6 157 180 185 244',
    'v=u5SF4SlqNDQ__#00-00-00_00-01-00_label_G-0-0 624 912',
    'v=U6MC8JJJZSY__#1_label_B1-0-0.mp4 150 779',
    'A.Beautiful.Mind.2001__#00-40-52_00-42-01_label_A',
  ].join('\n');

  it('frame pairs at 24 fps; classes from the name (several); a name alone lists a video; label_A is normal', () => {
    const truth = parseXdViolence(text, 'annotations.txt');
    expect(video(truth, 'Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6')).toEqual({
      name: 'Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6',
      label: 'Explosion',
      classes: ['Explosion', 'Shooting', 'Car accident'],
      intervals: [
        { start: 157, end: 180, unit: 'frame', fps: 24 },
        { start: 185, end: 244, unit: 'frame', fps: 24 },
      ],
      sources: ['annotations.txt:1'],
    });
    expect(video(truth, 'v=U6MC8JJJZSY__#1_label_B1-0-0.mp4')?.classes).toEqual(['Fighting']);
    expect(video(truth, 'A.Beautiful.Mind.2001__#00-40-52_00-42-01_label_A')).toMatchObject({
      label: 'normal',
      intervals: [],
    });
    expect(detectFormat('annotations.txt', text)).toBe('xd');
  });

  it('errors name the line', () => {
    expect(() => parseXdViolence('x_label_B1-0-0 1 2\ny_label_B2-0-0 1 2 3\n', 'annotations.txt')).toThrow(
      'annotations.txt:2: expected an even number of frame numbers, got 3',
    );
    expect(() => parseXdViolence('x_label_B9-0-0 1 2', 'annotations.txt')).toThrow(
      'annotations.txt:1: unknown XD-Violence label "B9"',
    );
    expect(() => parseXdViolence('x_label_A 1 2', 'annotations.txt')).toThrow('annotations.txt:1: x_label_A is normal');
  });
});

describe('CSV and JSON in seconds', () => {
  it('CSV: a header, a row per interval, empty times for a normal video, quoted names', () => {
    const csv = [
      'video,start_s,end_s,class',
      'cam1/fight.mp4,12.5,30,Fighting',
      'fight.mp4,40,41.5,Fighting',
      '"quiet, night.mp4",,,',
      'theft,3,4,',
    ].join('\n');
    const truth = parseCsv(csv, 'gt.csv');
    expect(video(truth, 'fight.mp4')).toEqual({
      name: 'fight.mp4',
      label: 'Fighting',
      classes: ['Fighting'],
      intervals: [
        { start: 12.5, end: 30, unit: 's' },
        { start: 40, end: 41.5, unit: 's' },
      ],
      sources: ['gt.csv:2', 'gt.csv:3'],
    });
    expect(video(truth, 'quiet, night.mp4')).toMatchObject({ label: 'normal', intervals: [] });
    expect(video(truth, 'theft')).toMatchObject({ label: 'Anomaly' });
    expect(detectFormat('gt.csv', csv)).toBe('csv');
  });

  it('CSV errors name the line', () => {
    expect(() => parseCsv('a.mp4,1,x,Fighting', 'gt.csv')).toThrow('gt.csv:1: "x" is not a time in seconds');
    expect(() => parseCsv('a.mp4,1,2,F\nb.mp4,5,5,F', 'gt.csv')).toThrow(
      'gt.csv:2: interval ends (5 s) before or where',
    );
    expect(() => parseCsv('a.mp4,,,Fighting', 'gt.csv')).toThrow('gt.csv:1: class Fighting needs start_s and end_s');
    expect(() => parseCsv('a.mp4,1,2,Fighting\na.mp4,,,', 'gt.csv')).toThrow(
      'gt.csv:2: a.mp4 is normal here but of class Fighting at gt.csv:1',
    );
    expect(() => parseCsv('"a.mp4,1,2', 'gt.csv')).toThrow('gt.csv:1: unterminated quoted field');
  });

  it('JSON: intervals in seconds; none is normal', () => {
    const json = JSON.stringify([
      { video: 'Arrest001_x264', class: 'Arrest', intervals: [[39.5, 49.5]] },
      { video: 'Normal_Videos_003_x264' },
    ]);
    const truth = parseGroundTruth(json, 'gt.json');
    expect(video(truth, 'Arrest001_x264')?.intervals).toEqual([{ start: 39.5, end: 49.5, unit: 's' }]);
    expect(video(truth, 'Normal_Videos_003_x264')?.label).toBe('normal');
  });

  it('JSON errors name the entry', () => {
    expect(() => parseJson('[{"video": "a", "intervals": [[5, 2]]}]', 'gt.json')).toThrow(
      'gt.json: [0].intervals[0]: an interval must end after it starts',
    );
    expect(() => parseJson('[{"video": "a", "class": "Arrest"}]', 'gt.json')).toThrow(
      'gt.json:[0]: class Arrest but no intervals',
    );
    expect(() => parseJson('[{"video": ', 'gt.json')).toThrow('gt.json: not JSON');
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vad-gt-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads several files into one: an XD-Violence test list beside annotations.txt', async () => {
    await writeFile(join(dir, 'annotations.txt'), 'v=x__#1_label_B4-0-0 0 1517 1970 3038\n');
    await writeFile(join(dir, 'test.list'), '/data/xd/v=x__#1_label_B4-0-0.mp4\n/data/xd/calm__#1_label_A.mp4\n');
    const truth = await readGroundTruth([join(dir, 'annotations.txt'), join(dir, 'test.list')], 'xd');
    // The list's `…B4-0-0.mp4` and the annotation's `…B4-0-0` are the same video: merged when matched.
    expect([...truth.videos.values()].map((v) => [v.name, v.label, v.intervals.length])).toEqual([
      ['v=x__#1_label_B4-0-0', 'Riot', 2],
      ['v=x__#1_label_B4-0-0.mp4', 'Riot', 0],
      ['calm__#1_label_A.mp4', 'normal', 0],
    ]);
  });

  it('a file that cannot be read is named', async () => {
    await expect(readGroundTruth(join(dir, 'nope.txt'))).rejects.toThrow(
      `${join(dir, 'nope.txt')}: cannot be read (ENOENT)`,
    );
  });
});

describe('matching names', () => {
  it('a video is known by its file name and by its stem, in lower case', () => {
    expect(videoNameKeys('/data/ucf/Arrest001_x264.mp4')).toEqual(['arrest001_x264.mp4', 'arrest001_x264']);
    expect(videoNameKeys('/data/xd/Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6.mp4')).toContain(
      'bad.boys.1995__#01-11-55_01-12-40_label_g-b2-b6',
    );
    expect(videoNameKeys('/data/noext')).toEqual(['noext']);
  });
});
