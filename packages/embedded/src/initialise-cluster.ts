import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@vad/config';
import type { DataFolderFiles } from './data-folder.js';
import { failureFromOutput } from './embedded-postgres-error.js';
import type { PostgresBinaries } from './postgres-binaries.js';
import type { RunAs } from './run-as.js';

/**
 * Creates the cluster: initdb runs into a staging folder next to the data
 * folder, renamed into place only once initdb succeeded, so that the data
 * folder is either absent or complete. The superuser `postgres` gets a random
 * password (scram-sha-256 auth rather than trust: any local user can reach
 * 127.0.0.1), kept in the 0600 password file. Call holding the start lock.
 */
export async function initialiseCluster(
  files: DataFolderFiles,
  binaries: PostgresBinaries,
  runAs: RunAs | undefined,
  logger: Logger,
): Promise<void> {
  // A staging folder found here is what a process killed during initdb left.
  await rm(files.staging, { recursive: true, force: true });
  try {
    await mkdir(files.staging, { mode: 0o700 });
    const password = randomBytes(24).toString('hex');
    const passwordFile = join(files.staging, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(files.staging, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    const pgdata = join(files.staging, 'pgdata');
    await runInitdb(binaries.initdb, runAs, logger, files.dataDir, [
      `--pgdata=${pgdata}`,
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // The builtin provider's C.UTF-8 needs no locale installed on the machine.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--lc-messages=C',
      '--no-instructions',
    ]);
    await writeFile(files.password, `${password}\n`, { mode: 0o600 });
    await chmod(files.password, 0o600);
    await rename(pgdata, files.dataDir);
  } finally {
    await rm(files.staging, { recursive: true, force: true });
  }
}

function runInitdb(initdb: string, runAs: RunAs | undefined, logger: Logger, dataDir: string, args: string[]) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(initdb, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' }, stdio: 'pipe' });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => {
      for (const line of output.split('\n').filter(Boolean)) logger.debug(`initdb: ${line}`);
      if (code === 0) resolve();
      else reject(failureFromOutput(output, `initdb for ${dataDir}`));
    });
  });
}
