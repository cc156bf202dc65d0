import { ProcessingWindow } from './processing-window.js';

/** The schedule settings of vad's configuration (VAD_PROCESSING_WINDOW, VAD_TIMEZONE). */
export interface ScheduleSettings {
  schedule: { window?: string | undefined; timeZone: string };
}

/** Decides when a job that is not urgent may run. */
export interface ProcessingGate {
  /** Milliseconds until work that is not urgent may start; 0 when it may start now. */
  waitMs(): number;
  describe(): string;
}

/** The configured processing window, or undefined when work may run at any time. */
export function processingWindow(config: ScheduleSettings): ProcessingWindow | undefined {
  const { window, timeZone } = config.schedule;
  if (!window) return undefined;
  const parsed = ProcessingWindow.parse(window, timeZone);
  if (!parsed) throw new Error(`VAD_PROCESSING_WINDOW "${window}" is not HH:MM-HH:MM`);
  return parsed;
}

/**
 * The gate of the configured processing window (VAD_PROCESSING_WINDOW in
 * VAD_TIMEZONE), or undefined when there is none. Every worker on every
 * machine applies the same window to the jobs it takes, so the window holds
 * however many workers run and across restarts; `now` is injectable for tests.
 */
export function processingGate(config: ScheduleSettings, now: () => number = Date.now): ProcessingGate | undefined {
  const parsed = processingWindow(config);
  if (!parsed) return undefined;
  return {
    waitMs() {
      const at = new Date(now());
      return Math.max(0, parsed.runnableAt(at).getTime() - at.getTime());
    },
    describe: () => parsed.toString(),
  };
}
