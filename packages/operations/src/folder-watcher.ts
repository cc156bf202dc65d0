import { stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import type { Logger } from '@vad/config';
import type { Repositories } from '@vad/db';
import { cameraFromPath, recordedAtFromPath } from '@vad/schedule';
import { isVideoFileName } from '@vad/video';
import { type FSWatcher, watch } from 'chokidar';
import { SubmitError, type SubmitResult, type SubmitService } from './submit-service.js';

export interface FolderWatcherOptions {
  /** A file is submitted once its size has not changed for this long. */
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

export type WatchEvent =
  | { type: 'submitted'; path: string; result: SubmitResult }
  | { type: 'skipped'; path: string; reason: string }
  | { type: 'rejected'; path: string; reason: string };

/**
 * Watches a folder (recursively) for recordings and submits each once it has
 * finished being written: its size has stayed the same for `stableMs`.
 * Camera and recording time come from the path by pattern, else the fixed
 * camera and the file's time. A file already submitted from the same path
 * with the same size is skipped, so restarting the watcher (which sees every
 * file again) submits nothing twice; the content hash catches the same
 * recording under another name.
 */
export class FolderWatcher {
  private watcher?: FSWatcher;
  private readonly rejected = new Map<string, number>();
  private pending = Promise.resolve();

  constructor(
    readonly folder: string,
    private readonly options: FolderWatcherOptions,
    private readonly deps: FolderWatcherDeps,
    private readonly onEvent: (event: WatchEvent) => void = () => {},
  ) {}

  /** Starts watching; resolves once the files already there have been seen. */
  async start(): Promise<void> {
    const root = resolve(this.folder);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new Error(`${root} is not a folder`);
    const watcher = watch(root, {
      ignored: (path, stats) => basename(path).startsWith('.') || (stats?.isFile() === true && !isVideoFileName(path)),
      awaitWriteFinish: {
        stabilityThreshold: this.options.stableMs,
        pollInterval: Math.max(50, Math.min(1000, this.options.stableMs / 4)),
      },
      usePolling: this.options.polling,
      interval: 1000,
      ignoreInitial: false,
    });
    this.watcher = watcher;
    // One submission at a time, in the order files became complete.
    const enqueue = (path: string) => {
      this.pending = this.pending
        .then(() => this.consider(root, path))
        .catch((error: unknown) =>
          this.deps.logger.error(
            { err: error, path },
            'watch: could not consider the file; tried again when it changes',
          ),
        );
    };
    watcher.on('add', enqueue);
    watcher.on('change', enqueue);
    watcher.on('error', (error) => this.deps.logger.error({ err: error }, 'watch error'));
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  }

  /** Resolves when every file seen so far has been dealt with. */
  idle(): Promise<void> {
    return this.pending;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    await this.pending;
  }

  private async consider(root: string, path: string): Promise<void> {
    const { options, deps } = this;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return;
    if (this.rejected.get(path) === info.size) return;
    if (options.skipOlderThanMs !== undefined && Date.now() - info.mtimeMs > options.skipOlderThanMs) {
      this.onEvent({ type: 'skipped', path, reason: 'older than the results retention period' });
      return;
    }
    const existing = await deps.repos.videos.findBySource(path, info.size);
    if (existing) {
      this.onEvent({ type: 'skipped', path, reason: `already submitted as ${existing.id}` });
      return;
    }
    const relativePath = relative(root, path);
    const camera = (options.cameraFrom && cameraFromPath(relativePath, options.cameraFrom)) ?? options.camera;
    const recordedAt = options.recordedAtFrom
      ? recordedAtFromPath(relativePath, options.recordedAtFrom, options.timeZone)
      : undefined;
    try {
      const result = await deps.submit.submit({ path, camera, recordedAt });
      this.onEvent({ type: 'submitted', path, result });
    } catch (error) {
      if (!(error instanceof SubmitError)) {
        deps.logger.error({ err: error, path }, 'watch: submit failed; the file is tried again when it changes');
        return;
      }
      // Not a video (or unreadable): said once; tried again only if the file changes.
      this.rejected.set(path, info.size);
      this.onEvent({ type: 'rejected', path, reason: error.reason });
    }
  }
}
