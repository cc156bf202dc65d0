import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Where each came from: the configuration, the system PATH, or an npm package. */
  source: { ffmpeg: BinarySource; ffprobe: BinarySource };
  /**
   * The build, where it is known without running the binary: the version the
   * npm package names (e.g. `20181210-g0e8eb07980`, a johnvansickle.com static
   * build); undefined for configured and system binaries (`ffmpegVersions`
   * asks those).
   */
  version?: { ffmpeg: string | undefined; ffprobe: string | undefined };
  /** What vad does so that these binaries work, in words (see `STATIC_GLIBC_WORKAROUND`); empty when nothing. */
  workarounds?: string[];
}

export type BinarySource = 'config' | 'system' | 'npm';

export interface BinaryOverrides {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
}

type NpmPackage = '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe';

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

function fromNpm(packageName: NpmPackage): { path: string; version: string | undefined } | undefined {
  try {
    const { path, version } = require(packageName) as { path: string; version?: string };
    return isExecutable(path) ? { path, version } : undefined;
  } catch {
    return undefined;
  }
}

interface Resolved {
  path: string;
  source: BinarySource;
  version: string | undefined;
}

function resolveOne(name: 'ffmpeg' | 'ffprobe', override: string | undefined, npmPackage: NpmPackage): Resolved {
  if (override) {
    if (!isExecutable(override))
      throw new Error(`${name} at ${override} (from configuration) is not an executable file`);
    return { path: override, source: 'config', version: undefined };
  }
  const system = findOnPath(name);
  if (system) return { path: system, source: 'system', version: undefined };
  const shipped = fromNpm(npmPackage);
  if (shipped) return { path: shipped.path, source: 'npm', version: shipped.version };
  throw new Error(
    `${name} not found: not on PATH and the ${npmPackage} package has no binary for ${process.platform}/${process.arch}. ` +
      `Install ffmpeg or set VAD_${name.toUpperCase()}_PATH.`,
  );
}

const PT_INTERP = 3;

/**
 * Whether the file is a statically linked ELF executable: one without a
 * PT_INTERP program header (no dynamic loader), as the johnvansickle.com
 * builds in @ffmpeg-installer and @ffprobe-installer are. False for anything
 * that is not ELF or cannot be read.
 */
export function isStaticElf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 52) return false;
    if (header.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = header[4] === 2;
    const little = header[5] === 1;
    const u16 = (b: Buffer, o: number) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64
      ? Number(little ? header.readBigUInt64LE(0x20) : header.readBigUInt64BE(0x20))
      : u32(header, 0x1c);
    const phentsize = u16(header, is64 ? 0x36 : 0x2a);
    const phnum = u16(header, is64 ? 0x38 : 0x2c);
    if (phnum === 0 || phentsize < 4) return false;
    const table = Buffer.alloc(phentsize * phnum);
    if (readSync(fd, table, 0, table.length, phoff) < table.length) return false;
    for (let i = 0; i < phnum; i += 1) if (u32(table, i * phentsize) === PT_INTERP) return false;
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The static glibc workaround, in words, as `FfmpegBinaries.workarounds` lists it.
 *
 * A statically linked glibc program still loads iconv's character set
 * modules at run time, and reads the host's gconv-modules.cache to find them;
 * with a cache from another glibc than the one built in, it jumps to a bogus
 * address. The static ffprobe shipped in @ffprobe-installer (johnvansickle.com
 * builds, every version on npm) does so on every MPEG-TS file (.ts, .mts,
 * .m2ts): the demuxer converts the service name in the SDT with iconv, and
 * ffprobe dies with SIGSEGV. With GCONV_PATH set, glibc skips the cache
 * (it searches GCONV_PATH's folders and its built-in one instead), and the
 * same binary reads the file. Child processes inherit vad's environment
 * (fluent-ffmpeg's ffprobe cannot be given one of its own), so it is set in
 * process.env, empty, when a static binary is selected and the variable is
 * unset. For vad's own dynamically linked processes that only turns the cache
 * off: iconv still finds every module, a little slower, in glibc's folder.
 */
export const STATIC_GLIBC_WORKAROUND =
  'GCONV_PATH set (empty) for the static ffmpeg/ffprobe builds: their built-in glibc crashes on the ' +
  "host's gconv-modules.cache (ffprobe: SIGSEGV on every MPEG-TS file)";

function applyStaticGlibcWorkaround(paths: string[]): string[] {
  if (process.platform !== 'linux' || !paths.some(isStaticElf)) return [];
  if (process.env.GCONV_PATH === undefined) {
    process.env.GCONV_PATH = '';
    return [STATIC_GLIBC_WORKAROUND];
  }
  return [
    `GCONV_PATH is set (${JSON.stringify(process.env.GCONV_PATH)}), as the static ffmpeg/ffprobe builds need: ` +
      "their built-in glibc crashes on the host's gconv-modules.cache",
  ];
}

let cached: FfmpegBinaries | undefined;

/**
 * ffmpeg and ffprobe to run: configured paths first, then the system's
 * binaries on PATH, then the static builds shipped in npm packages, so a
 * fresh machine needs no manual install. When a statically linked build is
 * selected (the npm ones, or a static build on PATH) it sets GCONV_PATH for
 * the child processes (see `STATIC_GLIBC_WORKAROUND`) and says so in
 * `workarounds`.
 */
export function resolveFfmpegBinaries(overrides: BinaryOverrides = {}): FfmpegBinaries {
  const useCache = !overrides.ffmpegPath && !overrides.ffprobePath;
  if (useCache && cached) return cached;
  const ffmpeg = resolveOne('ffmpeg', overrides.ffmpegPath, '@ffmpeg-installer/ffmpeg');
  const ffprobe = resolveOne('ffprobe', overrides.ffprobePath, '@ffprobe-installer/ffprobe');
  const binaries: FfmpegBinaries = {
    ffmpeg: ffmpeg.path,
    ffprobe: ffprobe.path,
    source: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source },
    version: { ffmpeg: ffmpeg.version, ffprobe: ffprobe.version },
    workarounds: applyStaticGlibcWorkaround([ffmpeg.path, ffprobe.path]),
  };
  if (useCache) cached = binaries;
  return binaries;
}

const execFileAsync = promisify(execFile);

/**
 * The first line each binary's `-version` prints, e.g. "ffprobe version
 * N-66595-gc2b38619c0-static https://johnvansickle.com/ffmpeg/ Copyright …",
 * or why it could not be run.
 */
export async function ffmpegVersions(binaries: FfmpegBinaries): Promise<{ ffmpeg: string; ffprobe: string }> {
  const first = async (path: string) => {
    try {
      const { stdout } = await execFileAsync(path, ['-hide_banner', '-version'], { timeout: 10_000 });
      return (
        stdout
          .split('\n')[0]
          ?.replace(/\s+Copyright.*$/, '')
          .trim() || 'no version printed'
      );
    } catch (error) {
      return `could not run it: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
  };
  const [ffmpeg, ffprobe] = await Promise.all([first(binaries.ffmpeg), first(binaries.ffprobe)]);
  return { ffmpeg, ffprobe };
}
