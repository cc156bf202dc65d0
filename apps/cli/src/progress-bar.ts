import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for work counted in steps (`{value}/{total}` in
 * `format`), shown only on a terminal and only once the work reports its
 * first step; stop() is safe whether it was shown or not.
 */
export function stepProgress(format: string): { update(done: number, total: number): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!process.stderr.isTTY) return;
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
