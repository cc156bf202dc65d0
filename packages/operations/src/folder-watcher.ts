import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import type { Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import { cameraFromPath, recordedAtFromPath } from '@vad/schedule';
import { isVideoFileName } from '@vad/video';
import { type FSWatcher, watch } from 'chokidar';
import { SubmitError, type SubmitResult, type SubmitService } from './submit-service.js';

export interface FolderWatcherOptions {
  /** A file is submitted once its size and modification time have not changed for this long. */
  stableMs: number;
  /** Poll instead of file-system events (network shares). */
  polling: boolean;
  /** Camera from the path relative to the folder: a `camera` group or the first group. */
  cameraFrom?: RegExp | undefined;
  /** A fixed camera, when no pattern is given or it does not match. */
  camera?: string | undefined;
  /** Recording time from the path: `year`, `month`, `day`, `hour`, `minute`, `second` groups, or `epoch`. */
  recordedAtFrom?: RegExp | undefined;
  timeZone: string;
  /**
   * Files last modified longer ago than this are left alone: with results
   * retention on, their videos were (or would at once be) deleted, so a
   * restarted watcher must not submit them again.
   */
  skipOlderThanMs?: number | undefined;
}

export interface FolderWatcherDeps {
  submit: Pick<SubmitService, 'submit'>;
  repos: Pick<Repositories, 'videos'>;
  logger: Logger;
}

/** Why a file was left alone. */
export type WatchSkipCause =
  | 'hidden'
  | 'temporary'
  | 'not-video'
  | 'empty'
  | 'older-than-retention'
  | 'already-submitted';

/**
 * What the watcher did with a file, one event per line it logs at info: the
 * files of the initial scan that were already submitted (or are older than
 * results retention) have no event of their own, only their count in `scanned`.
 */
export type WatchEvent =
  /** Submitted; `result.created` false: the same content was submitted before (under another name). */
  | { type: 'submitted'; path: string; result: SubmitResult }
  | { type: 'skipped'; path: string; cause: WatchSkipCause; reason: string }
  /** Not a readable video (probe failed): said once, tried again only if the file changes. */
  | { type: 'rejected'; path: string; reason: string }
  /**
   * Every file found by the initial scan has been dealt with (those still being
   * written then are not waited for): how many were already submitted or
   * older than results retention, and so skipped without a line of their own.
   * `path` is the folder.
   */
  | { type: 'scanned'; path: string; files: number; alreadySubmitted: number; olderThanRetention: number };

/** Names of files still being copied or saved by common tools (browsers, rsync-like copiers, editors). */
const TEMPORARY_NAME = /(?:\.(?:part|partial|tmp|temp|crdownload|download|filepart|swp|!sync)|~)$|^~\$/i;

/** Why a file is left alone by its name alone, or undefined when its name is a recording's. */
export function skipByName(name: string): { cause: WatchSkipCause; reason: string } | undefined {
  if (name.startsWith('.')) return { cause: 'hidden', reason: 'hidden file' };
  if (TEMPORARY_NAME.test(name)) return { cause: 'temporary', reason: 'temporary file (still being copied or saved)' };
  if (!isVideoFileName(name)) return { cause: 'not-video', reason: 'not a video file name extension' };
  return undefined;
}

/** Names skipped by name remembered so each is logged once; beyond this many the oldest are forgotten. */
const MAX_REMEMBERED_NAMES = 10_000;

interface Settling {
  size: number;
  mtimeMs: number;
  /** When the size or modification time was last seen to change (or first seen). */
  since: number;
  timer?: NodeJS.Timeout;
}

const signature = (info: Stats) => `${info.size}:${info.mtimeMs}`;

/**
 * Watches a folder (recursively) for recordings and submits each once it has
 * finished being written: its size and modification time have stayed the
 * same for `stableMs`. The rule applies alike to the files already there when
 * the watcher starts (a recording still being written is submitted once, when
 * it is complete) and to those that appear later.
 * Camera and recording time come from the path by pattern, else the fixed
 * camera and the file's time. A file already submitted from the same path
 * with the same size is skipped, so restarting the watcher (which sees every
 * file again) submits nothing twice; the content hash catches the same
 * recording under another name. Every file left alone is logged at info with
 * why, once, except that the initial scan's already-submitted files are
 * counted in one summary line (each logged at debug).
 */
export class FolderWatcher {
  private watcher?: FSWatcher;
  private closed = false;
  private pending = Promise.resolve();
  /** Files waiting for their size and modification time to stop changing. */
  private readonly settling = new Map<string, Settling>();
  /** The size and modification time each file had when it was last dealt with (submitted, skipped, rejected). */
  private readonly dealtWith = new Map<string, string>();
  /** Paths skipped by name (hidden, temporary, not a video), already logged. */
  private readonly skippedNames = new Set<string>();
  /** Files of the initial scan not yet dealt with; undefined once `scanned` has been reported. */
  private initial: Set<string> | undefined = new Set();
  private scanning = true;
  private readonly scan = { files: 0, alreadySubmitted: 0, olderThanRetention: 0 };

  constructor(
    readonly folder: string,
    private readonly options: FolderWatcherOptions,
    private readonly deps: FolderWatcherDeps,
    private readonly onEvent: (event: WatchEvent) => void = () => {},
  ) {}

  /** Starts watching; resolves once the files already there have been seen (not yet submitted). */
  async start(): Promise<void> {
    const root = resolve(this.folder);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new Error(`${root} is not a folder`);
    const watcher = watch(root, {
      // Called many times per path, with and without stats: says each skip once.
      ignored: (path, stats) => {
        if (path === root) return false;
        const name = basename(path);
        if (name.startsWith('.')) {
          const kind = stats?.isDirectory() ? 'folder' : 'file';
          if (stats) this.skipName(path, kind, 'hidden', `hidden ${kind}`);
          return true;
        }
        if (stats?.isFile() !== true) return false;
        const skip = skipByName(name);
        if (skip) this.skipName(path, 'file', skip.cause, skip.reason);
        return skip !== undefined;
      },
      usePolling: this.options.polling,
      interval: 1000,
      ignoreInitial: false,
    });
    this.watcher = watcher;
    // No awaitWriteFinish: chokidar (4.x) applies it only after 'ready', so the initial
    // scan's files would be reported at once, half-written ones included. `settle` is the
    // one stability rule for every file.
    watcher.on('add', (path) => this.settle(root, path, this.scanning));
    watcher.on('change', (path) => this.settle(root, path, false));
    watcher.on('unlink', (path) => this.forget(path));
    watcher.on('error', (error) => this.deps.logger.error({ err: error }, 'watch error'));
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
    this.scanning = false;
    this.reportScanWhenDone();
  }

  /** Resolves when every file that has finished being written so far has been dealt with. */
  idle(): Promise<void> {
    return this.pending;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.settling.values()) clearTimeout(entry.timer);
    this.settling.clear();
    await this.watcher?.close();
    await this.pending;
  }

  /**
   * The stability rule, for the files of the initial scan and later ones alike:
   * stat the file every poll interval and deal with it once its size and
   * modification time have stayed the same for `stableMs`.
   */
  private settle(root: string, path: string, initial: boolean): void {
    if (this.closed || this.settling.has(path)) return;
    if (initial) {
      this.initial?.add(path);
      this.scan.files++;
    }
    const entry: Settling = { size: -1, mtimeMs: -1, since: Date.now() };
    this.settling.set(path, entry);
    const { stableMs } = this.options;
    const pollMs = Math.max(50, Math.min(1000, stableMs / 4));
    const check = async () => {
      const info = await stat(path).catch(() => undefined);
      if (this.settling.get(path) !== entry) return; // closed or forgotten meanwhile
      if (!info?.isFile()) {
        this.settling.delete(path);
        this.initialDone(path);
        return;
      }
      const now = Date.now();
      if (info.size !== entry.size || info.mtimeMs !== entry.mtimeMs) {
        if (entry.size === -1 && this.dealtWith.get(path) === signature(info)) {
          // An event for a file already dealt with, unchanged since (a touch of its folder, a late event).
          this.settling.delete(path);
          this.initialDone(path);
          return;
        }
        // Still being written: a new recording, not one a restart finds already submitted.
        if (entry.size !== -1) this.initialDone(path);
        entry.size = info.size;
        entry.mtimeMs = info.mtimeMs;
        entry.since = now;
      } else if (now - entry.since >= stableMs) {
        this.settling.delete(path);
        this.enqueue(root, path, info, initial && this.initial?.has(path) === true);
        return;
      }
      entry.timer = setTimeout(check, pollMs);
    };
    void check();
  }

  /** One file dealt with at a time, in the order files became complete. */
  private enqueue(root: string, path: string, settled: Stats, initial: boolean): void {
    this.pending = this.pending
      .then(() => this.consider(root, path, settled, initial))
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, path }, 'watch: could not consider the file; tried again when it changes'),
      )
      .finally(() => this.initialDone(path));
  }

  private forget(path: string): void {
    const entry = this.settling.get(path);
    clearTimeout(entry?.timer);
    this.settling.delete(path);
    this.dealtWith.delete(path);
    this.initialDone(path);
  }

  private async consider(root: string, path: string, settled: Stats, initial: boolean): Promise<void> {
    const { options, deps } = this;
    if (this.closed) return;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return;
    // Changed since it settled: it settles again (at once here, in case its event came before the last look).
    if (signature(info) !== signature(settled)) return this.settle(root, path, false);
    if (info.size === 0) return this.skip(path, info, initial, 'empty', 'empty file (0 bytes)');
    if (options.skipOlderThanMs !== undefined && Date.now() - info.mtimeMs > options.skipOlderThanMs) {
      return this.skip(path, info, initial, 'older-than-retention', 'older than the results retention period');
    }
    const existing = await deps.repos.videos.findBySource(path, info.size);
    if (existing) {
      return this.skip(path, info, initial, 'already-submitted', `already submitted as ${existing.id}`, {
        videoId: existing.id,
      });
    }
    const relativePath = relative(root, path);
    const camera = (options.cameraFrom && cameraFromPath(relativePath, options.cameraFrom)) ?? options.camera;
    const recordedAt = options.recordedAtFrom
      ? recordedAtFromPath(relativePath, options.recordedAtFrom, options.timeZone)
      : undefined;
    let result: SubmitResult;
    try {
      result = await deps.submit.submit({ path, camera, recordedAt });
    } catch (error) {
      if (!(error instanceof SubmitError)) {
        deps.logger.error({ err: error, path }, 'watch: submit failed; the file is tried again when it changes');
        return;
      }
      // Not a video (or unreadable): said once; tried again only if the file changes.
      this.dealtWith.set(path, signature(info));
      deps.logger.warn({ path, reason: error.reason }, 'watch: file rejected');
      this.onEvent({ type: 'rejected', path, reason: error.reason });
      return;
    }
    this.dealtWith.set(path, signature(info));
    if (!result.created) {
      const reason = `same content already submitted as ${result.videoId}`;
      if (initial) return this.skip(path, info, initial, 'already-submitted', reason, { videoId: result.videoId });
      deps.logger.info({ path, cause: 'already-submitted', reason, videoId: result.videoId }, 'watch: file skipped');
    } else {
      deps.logger.info({ path, videoId: result.videoId, camera, recordedAt }, 'watch: file submitted');
    }
    this.onEvent({ type: 'submitted', path, result });
  }

  /**
   * A file left alone: logged at info with why, and reported; the initial
   * scan's files already submitted (or older than retention) are only
   * counted for the one summary line, and logged at debug.
   */
  private skip(
    path: string,
    info: Stats,
    initial: boolean,
    cause: WatchSkipCause,
    reason: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.dealtWith.set(path, signature(info));
    const line = { path, cause, reason, ...extra };
    if (initial && (cause === 'already-submitted' || cause === 'older-than-retention')) {
      if (cause === 'already-submitted') this.scan.alreadySubmitted++;
      else this.scan.olderThanRetention++;
      this.deps.logger.debug(line, 'watch: file skipped');
      return;
    }
    this.deps.logger.info(line, 'watch: file skipped');
    this.onEvent({ type: 'skipped', path, cause, reason });
  }

  /** A file or folder skipped by its name: said once. */
  private skipName(path: string, kind: 'file' | 'folder', cause: WatchSkipCause, reason: string): void {
    if (this.skippedNames.has(path)) return;
    if (this.skippedNames.size >= MAX_REMEMBERED_NAMES) {
      const oldest = this.skippedNames.values().next().value;
      if (oldest !== undefined) this.skippedNames.delete(oldest);
    }
    this.skippedNames.add(path);
    this.deps.logger.info({ path, cause, reason }, `watch: ${kind} skipped`);
    this.onEvent({ type: 'skipped', path, cause, reason });
  }

  private initialDone(path: string): void {
    if (this.initial?.delete(path)) this.reportScanWhenDone();
  }

  /** Once the scan is over and each of its files dealt with: the one summary line. */
  private reportScanWhenDone(): void {
    if (this.scanning || this.initial === undefined || this.initial.size > 0) return;
    this.initial = undefined;
    const { files, alreadySubmitted, olderThanRetention } = this.scan;
    const parts = [
      ...(alreadySubmitted > 0 ? [`${alreadySubmitted} files already submitted`] : []),
      ...(olderThanRetention > 0 ? [`${olderThanRetention} older than the results retention period`] : []),
    ];
    const folder = resolve(this.folder);
    const line = { folder, files, alreadySubmitted, olderThanRetention };
    if (parts.length > 0) this.deps.logger.info(line, `watch: ${parts.join(', ')}, skipped`);
    else this.deps.logger.debug(line, 'watch: initial scan dealt with');
    this.onEvent({ type: 'scanned', path: folder, files, alreadySubmitted, olderThanRetention });
  }
}
