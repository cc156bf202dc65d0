/**
 * Builds the project's own models (never CLIP: synthetic, for tests and benchmarks).
 *   npm run models:build -- [vad-test-tiny|vad-bench-vitb32|vad-test-head|vad-test-captioner|vad-bench-captioner|all] [--out DIR]
 * DIR defaults to VAD_MODEL_DIR (./var/models).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@vad/config';
import { BUILT_MODELS, type BuiltModelName, buildModel } from './build-models.js';

const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
const which = positionals[0] ?? 'all';
if (which !== 'all' && !BUILT_MODELS.includes(which as BuiltModelName)) {
  process.stderr.write(`unknown model ${which}: choose ${BUILT_MODELS.join(', ')} or all\n`);
  process.exit(2);
}
// `npm run models:build` runs this in models/: relative paths (and .env) are the caller's, from INIT_CWD.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const out = values.out ? resolve(callerDir, values.out) : loadConfigOrExit({ cwd: callerDir }).models.dir;
for (const name of which === 'all' ? BUILT_MODELS : [which as BuiltModelName]) {
  const started = performance.now();
  const files = await buildModel(name, out);
  for (const file of files) {
    process.stdout.write(
      `${name}: ${file.path} ${(file.bytes / 1e6).toFixed(1)} MB sha256 ${file.sha256.slice(0, 16)}…\n`,
    );
  }
  process.stdout.write(`${name}: built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
