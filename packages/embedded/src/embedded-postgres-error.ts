/** Why the embedded PostgreSQL server could not be started or reached. */
export type EmbeddedPostgresFailure =
  | 'port-taken'
  | 'disk-full'
  | 'corrupt-data'
  | 'binaries-missing'
  | 'start-failed'
  | 'locked';

/** A failure of the embedded PostgreSQL server, with a one-line message that says what to do. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';

  constructor(
    readonly reason: EmbeddedPostgresFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The `code` of a Node.js system error (ENOENT, ENOSPC, ...). */
export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The error for what initdb or postgres wrote before failing: `output` is
 * their log, `what` names the step and the data folder.
 */
export function failureFromOutput(output: string, what: string, port?: number): EmbeddedPostgresError {
  const lines = output.split('\n').filter((line) => line.trim());
  const worstLine = lines.findLast((line) => /FATAL|PANIC|ERROR|error/.test(line)) ?? lines.at(-1) ?? 'no output';
  // From "2026-11-30 18:10:32.239 UTC [10359] FATAL:  could not …" keep "FATAL: could not …".
  const worst = worstLine.replace(/^.*?\b(FATAL|PANIC|ERROR):\s+/, '$1: ');
  if (output.includes('No space left on device')) {
    return new EmbeddedPostgresError('disk-full', `${what}: the disk is full (${worst.trim()}): free some space`);
  }
  if (port !== undefined && /could not bind|Address already in use/.test(output)) {
    return new EmbeddedPostgresError(
      'port-taken',
      `${what}: port ${port} is in use by another program: set VAD_EMBEDDED_PORT to a free port`,
    );
  }
  if (/PANIC|could not locate a valid checkpoint record|invalid checkpoint record/.test(output)) {
    return new EmbeddedPostgresError('corrupt-data', `${what}: the data folder is damaged (${worst.trim()})`);
  }
  return new EmbeddedPostgresError('start-failed', `${what} failed: ${worst.trim()}`);
}

/** Any error of a start as an EmbeddedPostgresError naming the data folder. */
export function asEmbeddedPostgresError(error: unknown, dataDir: string): EmbeddedPostgresError {
  if (error instanceof EmbeddedPostgresError) return error;
  if (errorCode(error) === 'ENOSPC') {
    return new EmbeddedPostgresError('disk-full', `no space left on the disk of ${dataDir}: free some space`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EmbeddedPostgresError(
    'start-failed',
    `could not start the embedded PostgreSQL of ${dataDir}: ${message}`,
    {
      cause: error,
    },
  );
}
