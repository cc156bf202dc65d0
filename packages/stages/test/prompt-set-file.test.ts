import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UCF_CRIME_PROMPTS } from '@vad/scoring';
import { describe, expect, it } from 'vitest';
import { loadPromptSet } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vad-prompts-'));

describe('loadPromptSet', () => {
  it('reads YAML and JSON files, and defaults to UCF-Crime', async () => {
    const yaml = join(dir, 'night.yaml');
    writeFileSync(
      yaml,
      [
        'name: night-watch',
        'templates:',
        '  - "a CCTV frame showing {}"',
        'normal: Quiet',
        'classes:',
        '  Quiet: [an empty yard]',
        '  Intrusion: [a person climbing a fence]',
        '',
      ].join('\n'),
    );
    expect(await loadPromptSet(yaml)).toEqual({
      name: 'night-watch',
      templates: ['a CCTV frame showing {}'],
      normal: 'Quiet',
      classes: { Quiet: ['an empty yard'], Intrusion: ['a person climbing a fence'] },
    });
    const json = join(dir, 'set.json');
    writeFileSync(
      json,
      JSON.stringify({ name: 'j', templates: ['{}'], normal: 'N', classes: { N: ['calm'], F: ['fire'] } }),
    );
    expect((await loadPromptSet(json)).name).toBe('j');
    expect(await loadPromptSet(undefined)).toBe(UCF_CRIME_PROMPTS);
  });

  it('names the file and what is wrong with it', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'name: bad\ntemplates: ["no slot"]\nnormal: Calm\nclasses:\n  Fire: [fire]\n');
    await expect(loadPromptSet(bad)).rejects.toThrow(
      /bad\.yml: templates\.0: each template needs a \{\}.*normal: the normal class must be one of the classes/,
    );
  });
});
