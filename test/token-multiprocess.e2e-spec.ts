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
    fx.emu.setLatency({ tokenMs: 200 });
    team.forEach((w) => w.go());
    const results = await Promise.all(team.map((w) => w.result));
    fx.emu.setLatency({ tokenMs: 0 });
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(fx.emu.counts.refreshToken).toBe(1);
    const digests = new Set(results.flatMap((r) => r.digests));
    expect(digests.size).toBe(1);
    expect(digests.has(tokenDigest(grant.accessToken))).toBe(false);
    const mine = await instance.tokens.getAccessToken(connection.id);
    expect(digests.has(tokenDigest(mine.accessToken))).toBe(true);
  }, 60_000);

  it('takes over the lease of a process killed mid-refresh once the lease expires', async () => {
    const { connection, grant } = await fx.saveExpired(instance, { companyId: 2, userId: 1 });
    const holder = worker(connection.id, 10, { refreshLeaseSeconds: 2, tokenRequestTimeoutMs: 60_000 });
    await holder.ready;
    fx.emu.resetCounts();
    fx.emu.setLatency({ tokenMs: 60_000 }); // the holder's refresh hangs at Pipedrive
    holder.go();
    const leaseUntil = await waitForLease(instance, connection.id);
    await waitFor(() => fx.emu.counts.refreshToken === 1, 'the holder never reached the token endpoint');
    holder.child.kill('SIGKILL');
    fx.emu.setLatency({ tokenMs: 0 });
    const token = await instance.tokens.getAccessToken(connection.id);
    expect(Date.now()).toBeGreaterThanOrEqual(leaseUntil);
    expect(token.accessToken).not.toBe(grant.accessToken);
    expect(fx.emu.counts.refreshToken).toBe(2);
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, status FROM pipedrive_connections WHERE id = '${connection.id}'`,
    );
    expect(row).toEqual({ lease_owner: null, status: 'active' });
  }, 60_000);
});

describe('refresh across processes on SQLite without busyTimeout', () => {
  let fx: TokenFixture;
  let instance: TokenModule;
  const workers: TokenWorker[] = [];

  beforeAll(async () => {
    fx = await createTokenFixture('sqlite');
    instance = await fx.start();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await fx?.close();
  });

  it('copes with SQLITE_BUSY when the app set no busyTimeout', async () => {
    const { connection } = await fx.saveExpired(instance, { companyId: 3, userId: 1 });
    const plain = { ...fx.database, plain: true };
    const options = { oauthBaseUrl: fx.emu.url, encryptionKey: fx.options().encryptionKey };
    const team = Array.from({ length: WORKERS }, () =>
      spawnTokenWorker({ database: plain, options, connectionId: connection.id, calls: CALLS_PER_WORKER }),
    );
    workers.push(...team);
    await Promise.all(team.map((w) => w.ready));
    fx.emu.resetCounts();
    fx.emu.setLatency({ tokenMs: 20 });
    // Another process holds the write lock longer than node-sqlite3's built-in 1 s busy wait:
    // the lease UPDATEs fail with SQLITE_BUSY until it lets go.
    const locker = new sqlite3.Database((fx.database as { path: string }).path);
    await run(locker, 'BEGIN EXCLUSIVE');
    team.forEach((w) => w.go());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await run(locker, 'COMMIT');
    locker.close();
    const results = await Promise.all(team.map((w) => w.result));
    fx.emu.setLatency({ tokenMs: 0 });
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(new Set(results.flatMap((r) => r.digests)).size).toBe(1);
  }, 60_000);

});

function run(db: sqlite3.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
}

async function waitForLease(instance: TokenModule, id: string): Promise<number> {
  let leaseUntil = 0;
  await waitFor(async () => {
    const [row] = await instance.dataSource.query(
      `SELECT lease_owner, lease_until FROM pipedrive_connections WHERE id = '${id}'`,
    );
    leaseUntil = Number(row?.lease_until);
    return Boolean(row?.lease_owner);
  }, 'the worker never took the lease');
  return leaseUntil;
}

async function waitFor(condition: () => boolean | Promise<boolean>, failure: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(failure);
}
