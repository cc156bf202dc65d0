import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Where each came from: the configuration, the system PATH, or an npm package. */
  source: { ffmpeg: BinarySource; ffprobe: BinarySource };
}

export type BinarySource = 'config' | 'system' | 'npm';

export interface BinaryOverrides {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
}

const require = createRequire(import.meta.url);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromNpm(packageName: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    const { path } = require(packageName) as { path: string };
    return isExecutable(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function resolveOne(
  name: 'ffmpeg' | 'ffprobe',
  override: string | undefined,
  npmPackage: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe',
): { path: string; source: BinarySource } {
  if (override) {
    if (!isExecutable(override))
      throw new Error(`${name} at ${override} (from configuration) is not an executable file`);
    return { path: override, source: 'config' };
  }
  const system = findOnPath(name);
  if (system) return { path: system, source: 'system' };
  const shipped = fromNpm(npmPackage);
  if (shipped) return { path: shipped, source: 'npm' };
  throw new Error(
    `${name} not found: not on PATH and the ${npmPackage} package has no binary for ${process.platform}/${process.arch}. ` +
      `Install ffmpeg or set VAD_${name.toUpperCase()}_PATH.`,
  );
}

let cached: FfmpegBinaries | undefined;

/**
 * ffmpeg and ffprobe to run: configured paths first, then the system's
 * binaries on PATH, then the static builds shipped in npm packages, so a
 * fresh machine needs no manual install.
 */
export function resolveFfmpegBinaries(overrides: BinaryOverrides = {}): FfmpegBinaries {
  const useCache = !overrides.ffmpegPath && !overrides.ffprobePath;
  if (useCache && cached) return cached;
  const ffmpeg = resolveOne('ffmpeg', overrides.ffmpegPath, '@ffmpeg-installer/ffmpeg');
  const ffprobe = resolveOne('ffprobe', overrides.ffprobePath, '@ffprobe-installer/ffprobe');
  const binaries = {
    ffmpeg: ffmpeg.path,
    ffprobe: ffprobe.path,
    source: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source },
  };
  if (useCache) cached = binaries;
  return binaries;
}
