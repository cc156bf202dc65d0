/**
 * bench/query's concurrent load, in a process of its own so that the load
 * generator does not share the API's event loop. Either autocannon against
 * one URL (`url`), or the same closed loop of `connections` clients sending
 * one SQL statement straight to PostgreSQL (`sql`), the floor the API can
 * approach under the same concurrency. Takes its options as one JSON
 * argument; prints one JSON line: the measured seconds, error counts and the
 * latency of every successful request (milliseconds, sorted), so that the
 * caller computes exact percentiles (autocannon's own summary has no p95).
 *
 *   node --conditions=vad-source --import tsx load.ts '{"url":"http://…","headers":{…},"connections":50,"duration":10,"warmup":2}'
 */
import { createDatabase } from '@vad/db';
import autocannon from 'autocannon';

interface LoadOptions {
  /** HTTP: GET this URL with these headers (autocannon). */
  url?: string;
  headers?: Record<string, string>;
  /** SQL: send this statement on a pool of `connections` connections. */
  sql?: { databaseUrl: string; text: string; values: unknown[] };
  connections: number;
  /** Seconds. */
  duration: number;
  /** Seconds of the same load before, not measured. */
  warmup: number;
}

interface LoadResult {
  seconds: number;
  requests: number;
  errors: number;
  latencies: number[];
}

async function http(options: LoadOptions & { url: string }): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  const instance = autocannon({
    url: options.url,
    headers: options.headers ?? {},
    connections: options.connections,
    duration: options.duration,
    timeout: 30,
    ...(options.warmup > 0 ? { warmup: { connections: options.connections, duration: options.warmup } } : {}),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode === 200) latencies.push(responseTimeMs);
    else failed++;
  });
  const result = await instance;
  return { seconds: result.duration, requests: latencies.length, errors: failed + result.errors, latencies };
}

async function sql(options: LoadOptions & { sql: NonNullable<LoadOptions['sql']> }): Promise<LoadResult> {
  const { databaseUrl, text, values } = options.sql;
  const database = createDatabase(databaseUrl, { max: options.connections, applicationName: 'vad-bench-load' });
  try {
    const latencies: number[] = [];
    let errors = 0;
    const loop = async (until: number, record: boolean) => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await database.pool.query({ text, values });
          if (record) latencies.push(performance.now() - started);
        } catch {
          errors++;
        }
      }
    };
    const clients = Array.from({ length: options.connections });
    const warmUntil = performance.now() + options.warmup * 1000;
    await Promise.all(clients.map(() => loop(warmUntil, false)));
    errors = 0;
    const started = performance.now();
    const until = started + options.duration * 1000;
    await Promise.all(clients.map(() => loop(until, true)));
    return { seconds: (performance.now() - started) / 1000, requests: latencies.length, errors, latencies };
  } finally {
    await database.close();
  }
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const result = options.sql
  ? await sql({ ...options, sql: options.sql })
  : await http({ ...options, url: options.url ?? '' });
result.latencies.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify(result)}\n`);
