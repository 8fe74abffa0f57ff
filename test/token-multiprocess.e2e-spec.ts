import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';
import type { TokenModule } from './support/token-module.js';
import { spawnTokenWorker, tokenDigest, type TokenWorker } from './support/token-workers.js';

const WORKERS = 4;
const CALLS_PER_WORKER = 250;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('refresh across processes on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TokenModule;
  const workers: TokenWorker[] = [];
  const worker = (connectionId: string, calls: number, options = {}, database = fx.database) => {
    const spawned = spawnTokenWorker({
      database,
      options: { oauthBaseUrl: fx.emu.url, encryptionKey: fx.options().encryptionKey, ...options },
      connectionId,
      calls,
    });
    workers.push(spawned);
    return spawned;
  };

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    instance = await fx.start({ refreshLeaseSeconds: 2 });
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

  it.runIf(kind === 'sqlite')('copes with SQLITE_BUSY when the app set no busyTimeout and no WAL', async () => {
    const { connection } = await fx.saveExpired(instance, { companyId: 3, userId: 1 });
    const plain = { ...fx.database, plain: true };
    const team = Array.from({ length: WORKERS }, () => worker(connection.id, CALLS_PER_WORKER, {}, plain));
    await Promise.all(team.map((w) => w.ready));
    fx.emu.resetCounts();
    fx.emu.faults.tokenLatencyMs = 20;
    // Another process holds the write lock for a while: every lease UPDATE meets SQLITE_BUSY first.
    const locker = new sqlite3.Database((fx.database as { path: string }).path);
    await run(locker, 'BEGIN EXCLUSIVE');
    team.forEach((w) => w.go());
    await new Promise((resolve) => setTimeout(resolve, 400));
    await run(locker, 'COMMIT');
    locker.close();
    const results = await Promise.all(team.map((w) => w.result));
    fx.emu.faults.tokenLatencyMs = 0;
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(new Set(results.flatMap((r) => r.digests)).size).toBe(1);
  }, 60_000);

  it('takes over the lease of a process killed mid-refresh once the lease expires', async () => {
    const { connection, grant } = await fx.saveExpired(instance, { companyId: 2, userId: 1 });
    const holder = worker(connection.id, 10, { refreshLeaseSeconds: 2, tokenRequestTimeoutMs: 60_000 });
    await holder.ready;
    fx.emu.resetCounts();
    fx.emu.faults.tokenLatencyMs = 60_000; // the holder's refresh hangs at Pipedrive
    holder.go();
    const leaseUntil = await waitForLease(instance, connection.id);
    holder.child.kill('SIGKILL');
    fx.emu.faults.tokenLatencyMs = 0;
    const token = await instance.tokens.getAccessToken(connection.id);
    expect(Date.now()).toBeGreaterThanOrEqual(leaseUntil);
    expect(token.accessToken).not.toBe(grant.access_token);
    expect(fx.emu.counts.refreshToken).toBe(2);
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, status FROM pipedrive_connections WHERE id = '${connection.id}'`,
    );
    expect(row).toEqual({ lease_owner: null, status: 'active' });
  }, 60_000);
});

function run(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
}

async function waitForLease(instance: TokenModule, id: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, lease_until FROM pipedrive_connections WHERE id = '${id}'`,
    );
    if (row?.lease_owner) return Number(row.lease_until);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the worker never took the lease');
}
