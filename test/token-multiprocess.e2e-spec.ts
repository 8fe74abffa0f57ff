import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';
import { spawnTokenWorker, tokenDigest, type TokenWorker } from './support/token-workers.js';
import { advanceWhileWaiting, waitFor } from './support/waiting.js';

const WORKERS = 4;
const CALLS_PER_WORKER = 250;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('refresh across processes on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TestApp;
  const workers: TokenWorker[] = [];
  const worker = (connectionId: string, calls: number, options = {}) => {
    const spawned = spawnTokenWorker({
      database: fx.database,
      options: { oauthBaseUrl: fx.emu.url, encryptionKey: fx.options().encryptionKey, ...options },
      connectionId,
      calls,
    });
    workers.push(spawned);
    return spawned;
  };

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    // The workers run on the system clock; this instance on fx.clock (started at the real time), so
    // it sees a worker's lease expire when the test moves its clock, not after a real wait.
    instance = await fx.start({}, { clock: fx.clock });
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await fx?.close();
  });

  it(`${WORKERS} processes x ${CALLS_PER_WORKER} concurrent callers refresh an expired connection once`, async () => {
    const { connection, grant } = await fx.saveExpired(instance, { companyId: 1, userId: 1 });
    const team = Array.from({ length: WORKERS }, () => worker(connection.id, CALLS_PER_WORKER));
    await Promise.all(team.map((w) => w.ready));
    fx.emu.resetCounts();
    fx.emu.faults.tokenLatencyMs = 200;
    team.forEach((w) => w.go());
    const results = await Promise.all(team.map((w) => w.result));
    fx.emu.faults.tokenLatencyMs = 0;
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(fx.emu.counts.refreshToken).toBe(1);
    const digests = new Set(results.flatMap((r) => r.digests));
    expect(digests.size).toBe(1);
    expect(digests.has(tokenDigest(grant.access_token))).toBe(false);
    const mine = await instance.tokens.getAccessToken(connection.id);
    expect(digests.has(tokenDigest(mine.accessToken))).toBe(true);
  }, 60_000);

  it('takes over the lease of a process killed mid-refresh once the lease expires', async () => {
    const { connection, grant } = await fx.saveExpired(instance, { companyId: 2, userId: 1 });
    const holder = worker(connection.id, 10, { tokenRequestTimeoutMs: 60_000 });
    await holder.ready;
    fx.emu.resetCounts();
    fx.emu.faults.tokenLatencyMs = 60_000; // the holder's refresh hangs at Pipedrive
    holder.go();
    const leaseUntil = await waitForLease(instance, connection.id);
    await waitFor(() => fx.emu.counts.refreshToken === 1, 'the holder to reach the token endpoint');
    holder.child.kill('SIGKILL');
    fx.emu.faults.tokenLatencyMs = 0;
    await fx.clock.advanceTo(Date.now()); // the holder's lease is 30 s from its real now
    const taking = instance.tokens.getAccessToken(connection.id);
    // The lease is still the dead holder's: this instance waits on its clock and does not refresh.
    await waitFor(() => fx.clock.pendingSleeps > 0, 'the instance to wait for the lease');
    expect(fx.emu.counts.refreshToken).toBe(1);
    const token = await advanceWhileWaiting(fx.clock, taking, 5_000);
    expect(fx.clock.now()).toBeGreaterThanOrEqual(leaseUntil);
    expect(token.accessToken).not.toBe(grant.access_token);
    expect(fx.emu.counts.refreshToken).toBe(2);
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, status FROM pipedrive_connections WHERE id = '${connection.id}'`,
    );
    expect(row).toEqual({ lease_owner: null, status: 'active' });
  }, 60_000);
});

describe('refresh across processes on SQLite without busyTimeout', () => {
  let fx: TokenFixture;
  let instance: TestApp;
  const workers: TokenWorker[] = [];

  beforeAll(async () => {
    fx = await createTokenFixture('sqlite');
    instance = await fx.start();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await fx?.close();
  });

  it('retries SQLITE_BUSY when the app set no busyTimeout', async () => {
    const { connection } = await fx.saveExpired(instance, { companyId: 3, userId: 1 });
    const plain = { ...fx.database, plain: true };
    const options = { oauthBaseUrl: fx.emu.url, encryptionKey: fx.options().encryptionKey };
    const team = Array.from({ length: WORKERS }, () =>
      spawnTokenWorker({ database: plain, options, connectionId: connection.id, calls: CALLS_PER_WORKER }),
    );
    workers.push(...team);
    await Promise.all(team.map((w) => w.ready));
    fx.emu.resetCounts();
    fx.emu.faults.tokenLatencyMs = 20;
    // Another connection holds the write lock until a worker's statement has failed with SQLITE_BUSY
    // (after node-sqlite3's built-in 1 s busy wait); the library must retry it rather than fail the call.
    const locker = new sqlite3.Database((fx.database as { path: string }).path);
    await run(locker, 'BEGIN EXCLUSIVE');
    team.forEach((w) => w.go());
    await waitFor(() => team.some((w) => w.sawBusy()), 'a worker to hit SQLITE_BUSY');
    await run(locker, 'COMMIT');
    locker.close();
    const results = await Promise.all(team.map((w) => w.result));
    fx.emu.faults.tokenLatencyMs = 0;
    expect(results.reduce((sum, r) => sum + r.busyFailures, 0)).toBeGreaterThan(0);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(new Set(results.flatMap((r) => r.digests)).size).toBe(1);
  }, 60_000);

});

function run(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
}

async function waitForLease(instance: TestApp, id: string): Promise<number> {
  let leaseUntil = 0;
  await waitFor(async () => {
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, lease_until FROM pipedrive_connections WHERE id = '${id}'`,
    );
    leaseUntil = Number(row?.lease_until);
    return Boolean(row?.lease_owner);
  }, 'the worker to take the lease');
  return leaseUntil;
}
