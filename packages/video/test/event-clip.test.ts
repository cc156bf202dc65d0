import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserPlayable,
  clipSpan,
  DecodeError,
  EVENT_CLIP_POST_ROLL_MS,
  EVENT_CLIP_PRE_ROLL_MS,
  InvalidVideoError,
  makeEventClip,
  resolveFfmpegBinaries,
  synthesizeVideo,
  writeTextAsVideo,
} from '../src/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vad-clip-'));
const binaries = resolveFfmpegBinaries();
const sources = {
  /** 854x480 (16:9, not a multiple of anything): 640 wide gives an odd height, 359.7, made even. */
  hevcMkv: join(dir, 'camera-hevc.mkv'),
  /** A key frame every 5 s: seeking lands after the point asked, as MPEG-TS does, on the next one. */
  h264Ts: join(dir, 'camera.ts'),
  small: join(dir, 'small.mp4'),
  /** 1280x720 H.264 in MP4, a key frame every 2 s: what most cameras record. */
  h264Mp4: join(dir, 'camera.mp4'),
  text: join(dir, 'notes.mp4'),
};

interface Probe {
  streams: {
    codec_type: string;
    codec_name: string;
    pix_fmt: string;
    width: number;
    height: number;
    start_time: string;
  }[];
  format: { duration: string; format_name: string };
}

async function probe(path: string): Promise<Probe> {
  const { stdout } = await run(binaries.ffprobe, [
    ...['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,pix_fmt,width,height,start_time'],
    ...['-show_entries', 'format=duration,format_name', '-of', 'json', path],
  ]);
  return JSON.parse(stdout) as Probe;
}

/** The MP4's top-level box types in file order (ftyp, moov, mdat…). */
async function topLevelBoxes(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  const boxes: string[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(offset + 8));
    else if (size === 0) size = bytes.length - offset;
    boxes.push(type);
    if (size < 8) break;
    offset += size;
  }
  return boxes;
}

const leftovers = async (folder: string) => (await readdir(folder)).filter((name) => name.endsWith('.part'));

beforeAll(async () => {
  await synthesizeVideo(sources.small, { durationS: 4, width: 320, height: 240 }, binaries);
  const pattern = join(dir, 'pattern.mp4');
  await synthesizeVideo(pattern, { durationS: 14, width: 854, height: 480 }, binaries);
  const head = ['-hide_banner', '-loglevel', 'error', '-y', '-i', pattern, '-map', '0:v:0'];
  await run(binaries.ffmpeg, [
    ...head,
    ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-f', 'matroska'],
    sources.hevcMkv,
  ]);
  await run(binaries.ffmpeg, [
    ...head,
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '125', '-pix_fmt', 'yuv420p', '-f', 'mpegts'],
    sources.h264Ts,
  ]);
  await run(binaries.ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=25', '-t', '14'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', sources.h264Mp4],
  ]);
  await rm(pattern);
  await writeTextAsVideo(sources.text);
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('clipSpan', () => {
  it('adds the pre- and post-roll, within the video', () => {
    expect(EVENT_CLIP_PRE_ROLL_MS).toBe(5000);
    expect(EVENT_CLIP_POST_ROLL_MS).toBe(3000);
    expect(clipSpan({ startMs: 20_000, endMs: 30_000 }, 60_000)).toEqual({ fromMs: 15_000, toMs: 33_000 });
    expect(clipSpan({ startMs: 2_000, endMs: 58_500 }, 60_000)).toEqual({ fromMs: 0, toMs: 60_000 });
    expect(clipSpan({ startMs: 2_000, endMs: 58_500 }, null)).toEqual({ fromMs: 0, toMs: 61_500 });
  });
});

describe('browserPlayable', () => {
  it('is true only for MP4/QuickTime/WebM holding H.264, VP8, VP9 or AV1', () => {
    expect(browserPlayable({ container: '/footage/yard.mp4', codec: 'h264' })).toBe(true);
    expect(browserPlayable({ container: '.MOV', codec: 'h264' })).toBe(true);
    expect(browserPlayable({ container: 'm4v', codec: 'av1' })).toBe(true);
    expect(browserPlayable({ container: 'a.webm', codec: 'vp9' })).toBe(true);
    expect(browserPlayable({ container: 'mov,mp4,m4a,3gp,3g2,mj2', codec: 'h264' })).toBe(true);
    expect(browserPlayable({ container: 'matroska,webm', codec: 'vp8' })).toBe(true);
    expect(browserPlayable({ container: 'matroska,webm', codec: 'h264' })).toBe(false);
    expect(browserPlayable({ container: 'yard.mp4', codec: 'hevc' })).toBe(false);
    expect(browserPlayable({ container: 'yard.mkv', codec: 'h264' })).toBe(false);
    expect(browserPlayable({ container: 'yard.ts', codec: 'h264' })).toBe(false);
    expect(browserPlayable({ container: 'yard.avi', codec: 'mpeg4' })).toBe(false);
    expect(browserPlayable({ container: 'yard.mp4', codec: null })).toBe(false);
    expect(browserPlayable({ codec: 'h264' })).toBe(false);
  });
});

describe('makeEventClip', () => {
  it.each([
    ['HEVC in Matroska', 'hevcMkv'],
    ['H.264 in MPEG-TS', 'h264Ts'],
  ] as const)(
    'makes a browser-playable clip of %s: H.264 yuv420p, 640 wide, even, index first, the span long',
    async (_what, key) => {
      const target = join(dir, 'clips', key, '7.mp4');
      const span = { fromMs: 4_000, toMs: 12_000 };
      const clip = await makeEventClip(sources[key], target, span, binaries);
      expect(clip).toMatchObject({ path: target, span, method: 'transcode' });
      expect(clip.frames).toBeGreaterThanOrEqual(195);
      const info = await probe(target);
      expect(info.format.format_name).toContain('mp4');
      const video = info.streams.filter((s) => s.codec_type === 'video');
      expect(video).toHaveLength(1);
      expect(info.streams).toHaveLength(1); // no audio, no data
      expect(video[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 640, height: 358 });
      expect(Number(video[0]?.start_time)).toBeLessThan(0.05); // from the span's first frame, none missing
      expect(Math.abs(Number(info.format.duration) - 8)).toBeLessThan(0.15);
      const boxes = await topLevelBoxes(target);
      expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      expect(await leftovers(join(dir, 'clips', key))).toEqual([]);
    },
  );

  it("cuts an H.264 MP4 without re-encoding: from the span's first frame (edit list), not the key frame before", async () => {
    const target = join(dir, 'clips', 'copy', '3.mp4');
    // 4.7 s lies 0.7 s after a key frame (every 2 s).
    const span = { fromMs: 4_700, toMs: 12_300 };
    const clip = await makeEventClip(sources.h264Mp4, target, span, binaries);
    expect(clip).toMatchObject({ span, method: 'copy' });
    const info = await probe(target);
    expect(info.streams).toHaveLength(1);
    expect(info.streams[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 1280, height: 720 });
    expect(Number(info.streams[0]?.start_time)).toBeLessThan(0.05);
    expect(Math.abs(Number(info.format.duration) - 7.6)).toBeLessThan(0.15);
    // The frames shown: the span's (190 at 25 fps), not the 0.7 s before it that the key frame needs.
    const { stdout } = await run(binaries.ffprobe, [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames'],
      ...['-of', 'csv=p=0', target],
    ]);
    expect(Math.abs(Number(stdout.trim()) - 190)).toBeLessThanOrEqual(3);
    const boxes = await topLevelBoxes(target);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    // Asked to, it transcodes the same source (640 wide).
    const transcoded = join(dir, 'clips', 'copy', '3-transcoded.mp4');
    expect(await makeEventClip(sources.h264Mp4, transcoded, span, binaries, { method: 'transcode' })).toMatchObject({
      method: 'transcode',
    });
    expect((await probe(transcoded)).streams[0]).toMatchObject({ width: 640, height: 360 });
  });

  it('never scales a small source up', async () => {
    const target = join(dir, 'clips', 'small.mp4');
    await makeEventClip(sources.small, target, { fromMs: 500, toMs: 2_500 }, binaries);
    const [stream] = (await probe(target)).streams;
    expect(stream).toMatchObject({ width: 320, height: 240, codec_name: 'h264' });
  });

  it('a corrupt source fails with a readable error and leaves no file', async () => {
    const folder = join(dir, 'clips', 'corrupt');
    const target = join(folder, '1.mp4');
    const error = await makeEventClip(sources.text, target, { fromMs: 0, toMs: 4_000 }, binaries).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(/^could not make the clip of 0–4000 ms: .*Invalid data found/);
    expect((error as Error).message).not.toMatch(/ffmpeg exited|frame=/);
    expect(existsSync(target)).toBe(false);
    expect(await leftovers(folder)).toEqual([]);
  });

  it('a span past the end of the video fails (no frames) and leaves no file', async () => {
    const folder = join(dir, 'clips', 'past');
    const target = join(folder, '1.mp4');
    await expect(makeEventClip(sources.small, target, { fromMs: 9_000, toMs: 12_000 }, binaries)).rejects.toThrow(
      InvalidVideoError,
    );
    expect(existsSync(target)).toBe(false);
    expect(await leftovers(folder)).toEqual([]);
  });
});
