import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeFrames,
  InvalidVideoError,
  probeVideo,
  resolveFfmpegBinaries,
  synthesizeAudioOnly,
  synthesizeVideo,
  truncateCopy,
  writeTextAsVideo,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vad-video-'));
const binaries = resolveFfmpegBinaries();
const files = {
  pattern: join(dir, 'pattern.mp4'),
  wide: join(dir, 'wide.mp4'),
  audio: join(dir, 'audio.m4a'),
  text: join(dir, 'text.mp4'),
  truncated: join(dir, 'truncated.mp4'),
};

beforeAll(async () => {
  await synthesizeVideo(files.pattern, { durationS: 5, width: 320, height: 240, fps: 25 }, binaries);
  await synthesizeVideo(
    files.wide,
    { durationS: 2, width: 480, height: 160, source: 'color=c=red', fps: 10 },
    binaries,
  );
  await synthesizeAudioOnly(files.audio, 2, binaries);
  await writeTextAsVideo(files.text);
  await truncateCopy(files.pattern, files.truncated, 0.5);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resolveFfmpegBinaries', () => {
  it('finds ffmpeg and ffprobe without a manual install', () => {
    expect(binaries.ffmpeg).toMatch(/ffmpeg$/);
    expect(binaries.ffprobe).toMatch(/ffprobe$/);
    expect(['system', 'npm']).toContain(binaries.source.ffmpeg);
  });
  it('prefers a configured path and rejects one that is not executable', () => {
    expect(() => resolveFfmpegBinaries({ ffmpegPath: '/nonexistent/ffmpeg' })).toThrow(/not an executable file/);
    const configured = resolveFfmpegBinaries({ ffmpegPath: binaries.ffmpeg });
    expect(configured.source.ffmpeg).toBe('config');
  });
});

describe('probeVideo', () => {
  it('reads duration, dimensions, codec and frame rate', async () => {
    const probe = await probeVideo(files.pattern, binaries);
    expect(probe).toMatchObject({ width: 320, height: 240, codec: 'h264', fps: 25 });
    expect(probe.durationMs).toBeGreaterThanOrEqual(4900);
    expect(probe.durationMs).toBeLessThanOrEqual(5100);
  });

  it.each([
    ['audio', /contains no video stream \(only audio\)/],
    ['text', /not a readable video file: .*Invalid data/],
    ['truncated', /not a readable video file: moov atom not found/],
  ] as const)('rejects the %s file with a readable reason', async (name, reason) => {
    const attempt = probeVideo(files[name], binaries);
    await expect(attempt).rejects.toBeInstanceOf(InvalidVideoError);
    await expect(attempt).rejects.toThrow(reason);
  });
});

describe('decodeFrames', () => {
  it('samples at sampleFps with decoder timestamps', async () => {
    const frames = [];
    for await (const frame of decodeFrames(files.pattern, binaries, { sampleFps: 2, size: 32 })) {
      frames.push({ index: frame.index, ptsMs: frame.ptsMs, bytes: frame.rgb.length });
    }
    expect(frames).toHaveLength(10);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
    expect(frames.every((f) => f.bytes === 32 * 32 * 3)).toBe(true);
    expect(frames.map((f) => f.index)).toEqual([...Array(10).keys()]);
  });

  it('resizes the shortest side and centre-crops to RGB', async () => {
    const frames = [];
    for await (const frame of decodeFrames(files.wide, binaries, { sampleFps: 1, size: 16 })) frames.push(frame);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const rgb = frames[0]?.rgb ?? Buffer.alloc(0);
    expect(rgb.length).toBe(16 * 16 * 3);
    // Pure red after YUV round trip: R high, G and B low, for every pixel.
    for (let i = 0; i < rgb.length; i += 3) {
      expect(rgb[i]).toBeGreaterThan(230);
      expect(rgb[i + 1]).toBeLessThan(25);
      expect(rgb[i + 2]).toBeLessThan(25);
    }
  });

  it('kills ffmpeg when the consumer stops early', async () => {
    let seen = 0;
    for await (const _ of decodeFrames(files.pattern, binaries, { sampleFps: 10, size: 32 })) {
      seen += 1;
      if (seen === 3) break;
    }
    expect(seen).toBe(3);
  });

  it('fails with the reason ffmpeg gives', async () => {
    const attempt = async () => {
      for await (const _ of decodeFrames(files.text, binaries, { sampleFps: 2, size: 32 })) {
        // drain
      }
    };
    await expect(attempt()).rejects.toThrow(/ffmpeg failed: .*Invalid data/);
  });
});
