/**
 * One app instance for the webhook benchmarks, in its own process: `BENCH_DB=sqlite:PATH|postgres://...`,
 * `BENCH_RECORD=1` records every successful handling in `bench_handled` (event id, pid), and
 * `BENCH_FAIL_ONCE_MOD=N` makes the handler throw on the first attempt of deals whose id is a multiple of N.
 * Prints `PORT <n>` when listening.
 */
import { startBenchApp, type BenchDatabase } from './webhook-bench-app.js';

const url = process.env.BENCH_DB!;
const database: BenchDatabase = url.startsWith('sqlite:') ? { type: 'sqlite', path: url.slice(7) } : { type: 'postgres', url };
const record = process.env.BENCH_RECORD === '1';
const failMod = Number(process.env.BENCH_FAIL_ONCE_MOD ?? 0);
let dataSource: import('typeorm').DataSource | undefined;

const app = await startBenchApp(
  database,
  async (event) => {
    if (failMod > 0 && event.attempt === 1 && (event.meta.entityId ?? 1) % failMod === 0) throw new Error('fails once');
    if (record) await dataSource!.query('INSERT INTO bench_handled (event_id, pid) VALUES ($1, $2)', [event.id, process.pid]);
  },
  { backoffMs: 100, backoffFactor: 2, leaseMs: Number(process.env.BENCH_LEASE_MS ?? 60_000), pollIntervalMs: 100, concurrency: 32 },
);
dataSource = app.dataSource;
process.stdout.write(`PORT ${new URL(app.url).port}\n`);
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
