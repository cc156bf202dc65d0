import { startWorkerProcess, type WorkerProcess } from '../support/processes.js';

export const ROLE_APPS = {
  ingest: 'ingest-worker',
  embed: 'embed-worker',
  aggregate: 'aggregate-worker',
  scheduler: 'scheduler',
} as const;
export type Role = keyof typeof ROLE_APPS;

/** One process per worker role, as a small deployment runs them, that the test can kill and restart. */
export class WorkerCluster {
  private readonly running = new Map<Role, WorkerProcess>();
  private readonly finished: string[] = [];

  constructor(private readonly env: Record<string, string>) {}

  start(role: Role): void {
    this.running.set(role, startWorkerProcess(ROLE_APPS[role], this.env));
  }

  startAll(): void {
    for (const role of Object.keys(ROLE_APPS) as Role[]) this.start(role);
  }

  /** SIGKILL of one role's process, then a new one, as a supervisor (systemd) would. */
  async killAndRestart(role: Role): Promise<void> {
    const worker = this.running.get(role);
    if (worker) {
      await worker.stop('SIGKILL');
      this.finished.push(worker.output());
    }
    this.start(role);
  }

  /** Every line the processes wrote so far (JSON log lines). */
  lines(): string[] {
    const all = [...this.finished, ...[...this.running.values()].map((w) => w.output())];
    return all.flatMap((output) => output.split('\n').filter((line) => line.trim() !== ''));
  }

  async stop(): Promise<number[]> {
    const codes: number[] = [];
    for (const worker of this.running.values()) codes.push((await worker.stop('SIGTERM')) ?? -1);
    this.running.clear();
    return codes;
  }
}
