import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';

interface Workspace {
  dir: string;
  name: string;
  dependencies: string[];
}

function workspaces(parent: string): Workspace[] {
  return readdirSync(join(REPO_ROOT, parent)).map((entry) => {
    const dir = join(REPO_ROOT, parent, entry);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    return {
      dir,
      name: manifest.name,
      dependencies: Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }),
    };
  });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs)$/.test(entry)) out.push(path);
  }
  return out;
}

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](@vad\/[\w-]+)/g)].map((m) => m[1] as string);

/** The folder beside the repository that a development machine has and a clone does not. */
const OUTSIDE = ['..', 'shared'].join('/');

/**
 * Workspace packages a package may use (its own dependencies and devDependencies,
 * and its source imports). Evaluation reads the database and pure scoring only:
 * never queues or the runtime, so `vad eval` can run where there is no Redis.
 */
const ALLOWED_WORKSPACE_DEPENDENCIES: Record<string, string[]> = {
  '@vad/evaluation': ['@vad/config', '@vad/db', '@vad/scoring', '@vad/testing'],
};

const apps = workspaces('apps');
const packages = workspaces('packages');
const appNames = new Set(apps.map((a) => a.name));

describe('layers', () => {
  it('no app depends on or imports another app: apps wire packages', () => {
    const found: string[] = [];
    for (const app of apps) {
      for (const dep of app.dependencies) if (appNames.has(dep)) found.push(`${app.name} depends on ${dep}`);
      for (const file of sourceFiles(app.dir)) {
        for (const name of importsOf(file)) {
          if (appNames.has(name) && name !== app.name) found.push(`${relative(REPO_ROOT, file)} imports ${name}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('no package depends on or imports an app', () => {
    const found: string[] = [];
    for (const pkg of packages) {
      for (const dep of pkg.dependencies) if (appNames.has(dep)) found.push(`${pkg.name} depends on ${dep}`);
      for (const file of sourceFiles(pkg.dir)) {
        for (const name of importsOf(file))
          if (appNames.has(name)) found.push(`${relative(REPO_ROOT, file)} imports ${name}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the leaf packages import no other workspace package', () => {
    const leaves = ['@vad/config', '@vad/schedule', '@vad/scoring', '@vad/storage', '@vad/video'];
    const found: string[] = [];
    for (const pkg of packages.filter((p) => leaves.includes(p.name))) {
      for (const file of sourceFiles(join(pkg.dir, 'src'))) {
        for (const name of importsOf(file))
          if (name !== pkg.name) found.push(`${relative(REPO_ROOT, file)} imports ${name}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('packages with a fixed layer depend on and import only the workspace packages allowed to them', () => {
    const found: string[] = [];
    for (const [name, allowed] of Object.entries(ALLOWED_WORKSPACE_DEPENDENCIES)) {
      const pkg = packages.find((p) => p.name === name);
      if (!pkg) {
        found.push(`${name} is listed but is no workspace package`);
        continue;
      }
      const permitted = new Set([name, ...allowed]);
      for (const dep of pkg.dependencies)
        if (dep.startsWith('@vad/') && !permitted.has(dep)) found.push(`${name} depends on ${dep}`);
      for (const file of sourceFiles(join(pkg.dir, 'src'))) {
        for (const imported of importsOf(file))
          if (!permitted.has(imported)) found.push(`${relative(REPO_ROOT, file)} imports ${imported}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('training (vad train) builds on the data and model layers only: config, db, scoring, clip, models', () => {
    const allowed = ['@vad/training', '@vad/config', '@vad/db', '@vad/scoring', '@vad/clip', '@vad/models'];
    const training = packages.find((p) => p.name === '@vad/training');
    expect(training).toBeDefined();
    const found: string[] = [];
    for (const file of sourceFiles(join(training?.dir ?? '', 'src'))) {
      for (const name of importsOf(file))
        if (!allowed.includes(name)) found.push(`${relative(REPO_ROOT, file)} imports ${name}`);
    }
    expect(found).toEqual([]);
  });

  it('nothing in the repository reaches outside it for files (a clone has only the repository)', () => {
    const found: string[] = [];
    for (const root of ['apps', 'packages', 'models', 'test', 'bench']) {
      for (const file of sourceFiles(join(REPO_ROOT, root))) {
        if (file.endsWith('layers.test.ts')) continue;
        const text = readFileSync(file, 'utf8');
        if (text.includes(OUTSIDE) || text.includes('/work/shared')) found.push(relative(REPO_ROOT, file));
      }
    }
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    if (readme.includes(OUTSIDE)) found.push('README.md');
    expect(found).toEqual([]);
  });
});
