import { ProcessingWindow } from './processing-window.js';

/** The schedule settings of vad's configuration (VAD_PROCESSING_WINDOW, VAD_TIMEZONE). */
export interface ScheduleSettings {
  schedule: { window?: string | undefined; timeZone: string };
}

/** Decides when a job that is not urgent may run. */
export interface ProcessingGate {
  /** Milliseconds until work that is not urgent may start; 0 when it may start now. */
  waitMs(): number;
  /**
   * When held work is released, on the real clock (what BullMQ's delays are
   * counted on): now plus `waitMs()`; undefined when it may run now.
   */
  releaseAt(): Date | undefined;
  /** The window, e.g. "22:00-06:00 Europe/Berlin". */
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
 * however many workers run and across restarts. `now` is the clock the window
 * is read on (injectable for tests); delays are handed to BullMQ on the real
 * clock.
 */
export function processingGate(config: ScheduleSettings, now: () => number = Date.now): ProcessingGate | undefined {
  const parsed = processingWindow(config);
  if (!parsed) return undefined;
  const waitMs = () => {
    const at = new Date(now());
    return Math.max(0, parsed.runnableAt(at).getTime() - at.getTime());
  };
  return {
    waitMs,
    releaseAt() {
      const ms = waitMs();
      return ms > 0 ? new Date(Date.now() + ms) : undefined;
    },
    describe: () => parsed.toString(),
  };
}
