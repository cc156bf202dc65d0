import { readFileSync } from 'node:fs';

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return tasks ? tasks.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/**
 * Samples a process and its children (ffmpeg) until stopped: the process's
 * own peak (VmHWM, from the kernel), the largest RSS seen of any child, and
 * the process's RSS at each quarter of the sampling period (flat memory shows
 * as four similar numbers).
 */
export function sampleMemory(pid: number, everyMs = 100) {
  let childPeak = 0;
  const samples: number[] = [];
  const timer = setInterval(() => {
    samples.push(statusField(pid, 'VmRSS'));
    for (const child of children(pid)) childPeak = Math.max(childPeak, statusField(child, 'VmRSS'));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const at = (fraction: number) =>
        samples[Math.min(samples.length - 1, Math.floor(samples.length * fraction))] ?? 0;
      return {
        workerPeakRss: statusField(pid, 'VmHWM'),
        ffmpegPeakRss: childPeak,
        workerRssByQuarter: [at(0.25), at(0.5), at(0.75), at(0.99)],
      };
    },
  };
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
