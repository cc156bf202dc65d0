import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '@vad/testing';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `vad` command as a user would, with the given environment. */
export function runVad(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/cli/bin/vad.js'), ...args], {
      env: { ...process.env, ...env, VAD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vad ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts an app (e.g. `ingest-worker`, or `cli` with arguments) as its own
 * process, from source; `wrap` runs it through another command first (e.g.
 * `ip netns exec NAME`, which execs it in place).
 */
export function startWorkerProcess(
  app: string,
  env: Record<string, string>,
  args: string[] = [],
  wrap: string[] = [],
): WorkerProcess {
  const command = [
    process.execPath,
    ...['--conditions=vad-source', '--import', 'tsx', join(REPO_ROOT, 'apps', app, 'src/main.ts'), ...args],
  ];
  const [file = process.execPath, ...rest] = [...wrap, ...command];
  const child = spawn(file, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export { waitFor };

/** `vad api` as its own process (it migrates first), once it listens: the process and its address. */
export async function startApiProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ api: WorkerProcess; url: string }> {
  const api = startWorkerProcess('cli', env, ['api']);
  const url = await waitFor(
    'api listening',
    async () => /listening on (http:\/\/[\d.:]+)/.exec(api.output())?.[1],
    (found) => found !== undefined,
    timeoutMs,
  ).catch(async (error: unknown) => {
    await api.stop('SIGTERM');
    throw error;
  });
  return { api, url: String(url) };
}
