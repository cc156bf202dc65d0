import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createApiToken,
  envSchema,
  findApiToken,
  hashPipelineConfig,
  loadConfig,
  scopeAllows,
} from '../src/index.js';

const repoRoot = resolve(import.meta.dirname, '../../..');

describe('loadConfig', () => {
  it('has defaults that work on a single machine', () => {
    const config = loadConfig({ env: {}, envFile: false, cwd: '/srv/vad' });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/vad');
    expect(config.queue.prefix).toBe('{vad}');
    expect(config.storage.root).toBe('/srv/vad/var/storage');
    expect(config.pipeline).toEqual({
      model: 'clip-vit-base-patch32',
      sampleFps: 2,
      segmentFrames: 64,
      clipFrames: 16,
      clipStride: 8,
      sampling: 'fixed',
    });
  });

  it('names the variable, the value and what is allowed', () => {
    const attempt = () => loadConfig({ env: { VAD_SAMPLE_FPS: 'fast', VAD_QUEUE_PREFIX: 'vad' }, envFile: false });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/VAD_SAMPLE_FPS: .*number.*\(got "fast"\)/);
      expect(message).toMatch(/VAD_QUEUE_PREFIX: must be a hash-tagged name/);
    }
  });

  it('refuses VAD_INPUT_SIZE, which the model decides: set, it made every embed job fail after a full decode', () => {
    expect(() => loadConfig({ env: { VAD_INPUT_SIZE: '336' }, envFile: false })).toThrow(
      /VAD_INPUT_SIZE is no longer read: the frame size is the model's own input size, from its manifest/,
    );
  });

  it('reads API tokens as hashes with scopes, and names a malformed entry', () => {
    const admin = createApiToken('ops', 'admin');
    const reader = createApiToken('grafana', 'read');
    const config = loadConfig({ env: { VAD_API_TOKENS: `${admin.entry}, ${reader.entry}` }, envFile: false });
    expect(config.api.tokens.map((t) => [t.name, t.scope])).toEqual([
      ['ops', 'admin'],
      ['grafana', 'read'],
    ]);
    expect(JSON.stringify(config)).not.toContain(admin.token);
    expect(findApiToken(config.api.tokens, admin.token)?.name).toBe('ops');
    expect(findApiToken(config.api.tokens, reader.token)?.scope).toBe('read');
    expect(findApiToken(config.api.tokens, `${admin.token}x`)).toBeUndefined();
    expect(scopeAllows('admin', 'read')).toBe(true);
    expect(scopeAllows('read', 'admin')).toBe(false);
    expect(() => loadConfig({ env: { VAD_API_TOKENS: 'ops:root:abc' }, envFile: false })).toThrow(
      /VAD_API_TOKENS: each entry must be NAME:SCOPE:SHA256/,
    );
  });

  it('rejects a stride longer than the clip', () => {
    expect(() => loadConfig({ env: { VAD_CLIP_FRAMES: '8', VAD_CLIP_STRIDE: '9' }, envFile: false })).toThrow(
      /VAD_CLIP_STRIDE: must not exceed VAD_CLIP_FRAMES/,
    );
  });

  it('reads a .env file, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vad-config-'));
    writeFileSync(join(dir, '.env'), 'VAD_SAMPLE_FPS=4\nVAD_SEGMENT_FRAMES=32\n');
    const config = loadConfig({ env: { VAD_SEGMENT_FRAMES: '16' }, cwd: dir });
    expect(config.pipeline.sampleFps).toBe(4);
    expect(config.pipeline.segmentFrames).toBe(16);
  });

  it('the README configuration table lists every variable', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('.env.example documents exactly the variables the schema reads', () => {
    const documented = readFileSync(join(repoRoot, '.env.example'), 'utf8')
      .split('\n')
      .filter((line) => /^VAD_\w+=/.test(line))
      .map((line) => line.split('=')[0])
      .sort();
    const known = Object.keys(envSchema.shape).sort();
    expect(documented).toEqual(known);
  });
});

describe('hashPipelineConfig', () => {
  const base = { model: 'm', inputSize: 224, sampleFps: 2, segmentFrames: 64, clipFrames: 16, clipStride: 8 };
  it('ignores how work is split into segments', () => {
    expect(hashPipelineConfig({ ...base, segmentFrames: 8 })).toBe(hashPipelineConfig(base));
  });
  it('changes with anything that changes results', () => {
    expect(hashPipelineConfig({ ...base, sampleFps: 1 })).not.toBe(hashPipelineConfig(base));
    expect(hashPipelineConfig({ ...base, model: 'other' })).not.toBe(hashPipelineConfig(base));
  });
  it('keeps the hash of videos recorded before sampling modes, and tells the modes apart', () => {
    // The hash every existing video was recorded with (fixed sampling, before the field existed).
    expect(hashPipelineConfig(base)).toBe('b1a0f81a8dea43b7');
    expect(hashPipelineConfig({ ...base, sampling: 'fixed' })).toBe(hashPipelineConfig(base));
    const keyframes = hashPipelineConfig({ ...base, sampling: 'keyframes' });
    const motion = { ...base, sampling: 'motion' as const, motion: { threshold: 12, minArea: 0.002 } };
    expect(new Set([hashPipelineConfig(base), keyframes, hashPipelineConfig(motion)]).size).toBe(3);
    expect(hashPipelineConfig({ ...motion, motion: { threshold: 20, minArea: 0.002 } })).not.toBe(
      hashPipelineConfig(motion),
    );
    // Under motion sampling every segment starts with an encoded frame: its length changes results.
    expect(hashPipelineConfig({ ...motion, segmentFrames: 32 })).not.toBe(hashPipelineConfig(motion));
    // Keyframe sampling does not depend on segments.
    expect(hashPipelineConfig({ ...base, sampling: 'keyframes', segmentFrames: 32 })).toBe(keyframes);
  });
  it('records the sampling mode from VAD_SAMPLING, with the motion settings under motion', () => {
    expect(loadConfig({ env: {}, envFile: false }).pipeline).toMatchObject({ sampling: 'fixed' });
    expect(loadConfig({ env: {}, envFile: false }).pipeline.motion).toBeUndefined();
    const motion = loadConfig({ env: { VAD_SAMPLING: 'motion', VAD_MOTION_THRESHOLD: '20' }, envFile: false }).pipeline;
    expect(motion).toMatchObject({ sampling: 'motion', motion: { threshold: 20, minArea: 0.002 } });
    expect(() => loadConfig({ env: { VAD_SAMPLING: 'sometimes' }, envFile: false })).toThrow(/VAD_SAMPLING/);
  });
});
