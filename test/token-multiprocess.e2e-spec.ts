import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp, TestDatabase } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';
import { tokenDigest, type TokenWorker, TokenWorkerPool } from './support/token-workers.js';
import { advanceWhileWaiting, waitFor } from './support/waiting.js';

const WORKERS = 4;
const CALLS_PER_WORKER = 250;

/** Started once for the file (each process costs seconds of CPU) and reused by every test. */
let pool: TokenWorkerPool;
/** Only a guard against a hang: processes start slowly on a loaded machine. */
const PROCESS_LIMIT_MS = 180_000;
beforeAll(async () => {
  // Spares for the holders the lease tests kill, so no test waits for a process to start.
  pool = new TokenWorkerPool(WORKERS + 2);
  await pool.ready();
}, PROCESS_LIMIT_MS);
afterAll(() => pool?.close());

/** Prepares `workers` on the fixture's database for a job on `connectionId`. */
async function prepare(
  fx: TokenFixture,
  workers: TokenWorker[],
  connectionId: string,
  calls: number,
  extra: { database?: TestDatabase; options?: object } = {},
) {
  const job = {
    database: extra.database ?? fx.database,
    options: { oauthBaseUrl: fx.emu.url, encryptionKey: fx.options().encryptionKey, ...extra.options },
    connectionId,
    calls,
  };
  await Promise.all(workers.map((w) => w.prepare(job)));
}

describe.each<DatabaseKind>(['sqlite', 'postgres'])('refresh across processes on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TestApp;

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    // The workers run on the system clock; this instance on fx.clock (started at the real time), so
    // it sees a worker's lease expire when the test moves its clock, not after a real wait.
    instance = await fx.start({}, { clock: fx.clock });
  });
  afterAll(() => fx?.close());

  it(
    `${WORKERS} processes x ${CALLS_PER_WORKER} concurrent callers refresh an expired connection once`,
    async () => {
      const { connection, grant } = await fx.saveExpired(instance, { companyId: 1, userId: 1 });
      const team = pool.take(WORKERS);
      await prepare(fx, team, connection.id, CALLS_PER_WORKER);
      fx.emu.resetCounts();
      fx.emu.setLatency({ tokenMs: 200 });
      const results = await Promise.all(team.map((w) => w.go()));
      fx.emu.setLatency({ tokenMs: 0 });
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      expect(new Set(results.map((r) => r.pid)).size).toBe(WORKERS);
      expect(fx.emu.counts.refreshToken).toBe(1);
      const digests = new Set(results.flatMap((r) => r.digests));
      expect(digests.size).toBe(1);
      expect(digests.has(tokenDigest(grant.accessToken))).toBe(false);
      const mine = await instance.tokens.getAccessToken(connection.id);
      expect(digests.has(tokenDigest(mine.accessToken))).toBe(true);
    },
    PROCESS_LIMIT_MS,
  );

  it(
    'takes over the lease of a process killed mid-refresh once the lease expires',
    async () => {
      const { connection, grant } = await fx.saveExpired(instance, { companyId: 2, userId: 1 });
      const [holder] = pool.take(1);
      await prepare(fx, [holder!], connection.id, 10, { options: { tokenRequestTimeoutMs: 60_000 } });
      fx.emu.resetCounts();
      fx.emu.setLatency({ tokenMs: 60_000 }); // the holder's refresh hangs at Pipedrive
      void holder!.go().catch(() => undefined);
      const leaseUntil = await waitForLease(instance, connection.id);
      await waitFor(() => fx.emu.counts.refreshToken === 1, 'the holder to reach the token endpoint');
      holder!.child.kill('SIGKILL');
      fx.emu.setLatency({ tokenMs: 0 });
      await fx.clock.advanceTo(Date.now()); // the holder's lease runs 30 s from its real now
      const taking = instance.tokens.getAccessToken(connection.id);
      // The lease is still the dead holder's: this instance waits on its clock and does not refresh.
      await waitFor(() => fx.clock.pendingSleeps > 0, 'the instance to wait for the lease');
      expect(fx.emu.counts.refreshToken).toBe(1);
      const token = await advanceWhileWaiting(fx.clock, taking, 5_000);
      expect(fx.clock.now()).toBeGreaterThanOrEqual(leaseUntil);
      expect(token.accessToken).not.toBe(grant.accessToken);
      expect(fx.emu.counts.refreshToken).toBe(2);
      const [row] = await instance.dataSource.query(`SELECT lease_owner, status FROM pipedrive_connections WHERE id = '${connection.id}'`);
      expect(row).toEqual({ lease_owner: null, status: 'active' });
    },
    PROCESS_LIMIT_MS,
  );
});

describe('refresh across processes on SQLite without busyTimeout', () => {
  let fx: TokenFixture;
  let instance: TestApp;

  beforeAll(async () => {
    fx = await createTokenFixture('sqlite');
    instance = await fx.start();
  });
  afterAll(() => fx?.close());

  it(
    'retries SQLITE_BUSY when the app set no busyTimeout',
    async () => {
      const { connection } = await fx.saveExpired(instance, { companyId: 3, userId: 1 });
      const team = pool.take(WORKERS);
      await prepare(fx, team, connection.id, CALLS_PER_WORKER, {
        database: { type: 'sqlite', path: (fx.database as { path: string }).path, plain: true },
      });
      fx.emu.resetCounts();
      fx.emu.setLatency({ tokenMs: 20 });
      // Another connection holds the write lock until a worker's statement has failed with SQLITE_BUSY
      // (after node-sqlite3's built-in 1 s busy wait); the library must retry it rather than fail the call.
      const locker = new sqlite3.Database((fx.database as { path: string }).path);
      await run(locker, 'BEGIN EXCLUSIVE');
      const going = Promise.all(team.map((w) => w.go()));
      going.catch(() => undefined);
      await waitFor(() => team.some((w) => w.sawBusy()), 'a worker to hit SQLITE_BUSY');
      await run(locker, 'COMMIT');
      locker.close();
      const results = await going;
      fx.emu.setLatency({ tokenMs: 0 });
      expect(results.reduce((sum, r) => sum + r.busyFailures, 0)).toBeGreaterThan(0);
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      expect(fx.emu.counts.refreshToken).toBe(1);
      expect(new Set(results.flatMap((r) => r.digests)).size).toBe(1);
    },
    PROCESS_LIMIT_MS,
  );
});

function run(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
}

async function waitForLease(instance: TestApp, id: string): Promise<number> {
  let leaseUntil = 0;
  await waitFor(async () => {
    const [row] = await instance.dataSource.query(`SELECT lease_owner, lease_until FROM pipedrive_connections WHERE id = '${id}'`);
    leaseUntil = Number(row?.lease_until);
    return Boolean(row?.lease_owner);
  }, 'the worker to take the lease');
  return leaseUntil;
}
