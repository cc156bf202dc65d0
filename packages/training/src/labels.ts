import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { TrainingDataError } from './training-set.js';

/** A row of a labels file: `video,label[,class]`. */
export interface VideoLabel {
  /** `file:line`, for messages. */
  where: string;
  video: string;
  label: 0 | 1;
  /** The anomaly class, if given (anomalous rows only). */
  className: string | undefined;
}

/** A row of a frame-labels file: `video,start_s,end_s[,class]`, an anomalous interval. */
export interface FrameLabel {
  where: string;
  video: string;
  startMs: number;
  endMs: number;
  className: string | undefined;
}

/** Splits one CSV line (RFC 4180 quotes: "a, b" and "" for a quote inside). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field.trim());
      field = '';
    } else field += ch;
  }
  fields.push(field.trim());
  return fields;
}

/** Data lines of a CSV file with their 1-based line numbers: no blank lines, no `#` comments, no header. */
function dataLines(text: string, headerFirst: string): { line: number; fields: string[] }[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: { line: number; fields: string[] }[] = [];
  lines.forEach((raw, i) => {
    if (!raw.trim() || raw.trimStart().startsWith('#')) return;
    const fields = csvFields(raw);
    if (out.length === 0 && fields[0]?.toLowerCase() === headerFirst) return;
    out.push({ line: i + 1, fields });
  });
  return out;
}

const CLASS_NAME = /^[\w .&/-]{1,64}$/;

function className(value: string | undefined, where: string, problems: string[]): string | undefined {
  if (!value) return undefined;
  if (!CLASS_NAME.test(value)) {
    problems.push(`${where}: class "${value}" is not a class name (letters, digits, space, _ - . & /; up to 64)`);
    return undefined;
  }
  return value;
}

/** Parses a labels CSV (`video,label[,class]`, label normal|anomalous); every bad line is reported. */
export function parseLabels(text: string, file: string): VideoLabel[] {
  const name = basename(file);
  const problems: string[] = [];
  const out: VideoLabel[] = [];
  const seen = new Map<string, string>();
  for (const { line, fields } of dataLines(text, 'video')) {
    const where = `${name}:${line}`;
    const [video = '', label = '', cls] = fields;
    if (fields.length > 3) {
      problems.push(`${where}: ${fields.length} fields, expected video,label[,class]`);
      continue;
    }
    if (!video) {
      problems.push(`${where}: no video name`);
      continue;
    }
    const value = label.toLowerCase();
    if (value !== 'normal' && value !== 'anomalous') {
      problems.push(`${where}: label "${label}" is neither normal nor anomalous`);
      continue;
    }
    if (value === 'normal' && cls && cls.toLowerCase() !== 'normal') {
      problems.push(`${where}: a normal video has no anomaly class (got "${cls}")`);
      continue;
    }
    const key = video.toLowerCase();
    const earlier = seen.get(key);
    if (earlier) {
      problems.push(`${where}: video "${video}" is labelled already on line ${earlier.split(':').at(-1)}`);
      continue;
    }
    seen.set(key, where);
    out.push({
      where,
      video,
      label: value === 'anomalous' ? 1 : 0,
      className: value === 'anomalous' ? className(cls, where, problems) : undefined,
    });
  }
  if (problems.length) throw new TrainingDataError(problems);
  return out;
}

/** Parses a frame-labels CSV (`video,start_s,end_s[,class]`: anomalous intervals, seconds from the start). */
export function parseFrameLabels(text: string, file: string): FrameLabel[] {
  const name = basename(file);
  const problems: string[] = [];
  const out: FrameLabel[] = [];
  for (const { line, fields } of dataLines(text, 'video')) {
    const where = `${name}:${line}`;
    const [video = '', start = '', end = '', cls] = fields;
    if (fields.length < 3 || fields.length > 4) {
      problems.push(`${where}: ${fields.length} fields, expected video,start_s,end_s[,class]`);
      continue;
    }
    if (!video) {
      problems.push(`${where}: no video name`);
      continue;
    }
    const startS = Number(start);
    const endS = Number(end);
    if (start === '' || !Number.isFinite(startS) || startS < 0) {
      problems.push(`${where}: start "${start}" is not a time in seconds (≥ 0)`);
      continue;
    }
    if (end === '' || !Number.isFinite(endS) || endS <= startS) {
      problems.push(`${where}: end "${end}" is not a time in seconds after the start (${startS})`);
      continue;
    }
    out.push({
      where,
      video,
      startMs: Math.round(startS * 1000),
      endMs: Math.round(endS * 1000),
      className: className(cls, where, problems),
    });
  }
  if (problems.length) throw new TrainingDataError(problems);
  return out;
}

export async function readLabels(file: string): Promise<VideoLabel[]> {
  return parseLabels(await readCsv(file, 'labels'), file);
}

export async function readFrameLabels(file: string): Promise<FrameLabel[]> {
  return parseFrameLabels(await readCsv(file, 'frame labels'), file);
}

async function readCsv(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TrainingDataError([
      `${what} file ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    ]);
  }
}
