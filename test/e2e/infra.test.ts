import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';

const units = join(REPO_ROOT, 'infra', 'systemd');
const hasVerify = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('infra/systemd', () => {
  it('starts each role from its built entry point', () => {
    const files = readdirSync(units);
    expect(files).toEqual(
      expect.arrayContaining([
        'vad-api.service',
        'vad-ingest.service',
        'vad-embed@.service',
        'vad-aggregate.service',
        'vad-scheduler.service',
        'vad-watch@.service',
        'vad.target',
      ]),
    );
  });

  it.skipIf(!hasVerify)('every unit passes systemd-analyze verify', () => {
    // Template units are verified as instances.
    const dir = mkdtempSync(join(tmpdir(), 'vad-units-'));
    const names: string[] = [];
    for (const file of readdirSync(units)) {
      const name = file.replace('@.service', '@0.service');
      copyFileSync(join(units, file), join(dir, name));
      names.push(join(dir, name));
    }
    expect(() => execFileSync('systemd-analyze', ['verify', '--man=no', ...names], { stdio: 'pipe' })).not.toThrow();
  });
});
