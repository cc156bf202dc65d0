import type { Socket } from 'node:net';
import { TcpProxy, waitFor } from '@vad/testing';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';

const DIRECT = 'postgres://postgres@127.0.0.1:5432/postgres';
const proxy = await new TcpProxy({ host: '127.0.0.1', port: 5432 }).start();
afterAll(() => proxy.cut());

/** The chaos suite kills workers behind this proxy: their sessions must end at the server, as without it. */
it('ends the server session of a client whose socket was reset (a process killed with SIGKILL)', async () => {
  const key = Math.floor(Math.random() * 1e9);
  const victim = new pg.Client(proxy.urlFor(DIRECT));
  victim.on('error', () => {});
  await victim.connect();
  await victim.query('BEGIN');
  await victim.query('SELECT pg_advisory_xact_lock($1)', [key]);

  const other = new pg.Client(DIRECT);
  await other.connect();
  try {
    const tryLock = async () =>
      (await other.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [key])).rows[0]?.got;
    expect(await tryLock()).toBe(false);
    // What the kernel does to the sockets of a killed process with data still unread: a reset.
    (victim as unknown as { connection: { stream: Socket } }).connection.stream.resetAndDestroy();
    expect(await waitFor('the lock released', tryLock, (got) => got === true, 10_000, 100)).toBe(true);
  } finally {
    await other.end();
  }
});
