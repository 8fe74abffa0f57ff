import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PipedriveConnectionEvent } from '../src/tokens/pipedrive-events.js';
import type { PipedriveSweepSummary } from '../src/tokens/pipedrive-refresh-sweeper.js';
import type { TestApp } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';
import { waitFor } from './support/waiting.js';

const REFRESHED = 'pipedrive.connection.refreshed';
const NOTHING: PipedriveSweepSummary = { refreshed: 0, skipped: 0, failed: 0, reauthorizationRequired: 0 };

describe.each<DatabaseKind>(['sqlite', 'postgres'])('refresh sweep on %s', (kind) => {
  let fx: TokenFixture;
  let a: TestApp;
  let b: TestApp;
  let events: (PipedriveConnectionEvent & { by: string })[];
  let nextCompany = 1;
  const sql = (text: string) => (kind === 'sqlite' ? text.replace(/\$\d/g, '?') : text);
  const refreshedIds = () => events.filter((e) => e.type === REFRESHED).map((e) => e.connectionId);
  const expiryOf = async (id: string) => (await a.tokens.findConnection(id))?.expiresAt.getTime();

  /**
   * A stored connection whose token expires in `expiresIn` seconds (negative: expired) after a `lifetime`
   * in seconds; `used`: its token was handed out (by some instance) since it was issued.
   */
  async function connect(expiresIn: number, lifetime = 3_600, used = true): Promise<string> {
    const user = { companyId: nextCompany++, userId: 1 };
    const grant = fx.emu.grant({ clientId: fx.options().clientId, ...user });
    const tokens = { accessToken: grant.accessToken, refreshToken: grant.refreshToken, tokenType: 'Bearer' as const };
    const { id } = await a.tokens.saveConnection(user, { ...tokens, expiresIn: 3_600, scopes: ['base'], apiDomain: grant.apiDomain });
    const expiresAt = fx.clock.now() + expiresIn * 1000;
    const update = sql('UPDATE pipedrive_connections SET token_issued_at = $1, expires_at = $2, last_used_at = $3 WHERE id = $4');
    const issuedAt = expiresAt - lifetime * 1000;
    await a.dataSource.query(update, [issuedAt, expiresAt, used ? issuedAt : null, id]);
    return id;
  }

  /** An instance whose events are recorded, tagged `by`. */
  async function start(by: string, overrides: Parameters<TokenFixture['start']>[0] = {}): Promise<TestApp> {
    // One clock for every instance: the sweep decides what is due by it, and only tests move it.
    const instance = await fx.start(overrides, { clock: fx.clock });
    instance.events.on((event) => void events.push({ ...event, by }));
    return instance;
  }

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    a = await start('a');
    b = await start('b');
  });
  afterAll(() => fx?.close());
  beforeEach(async () => {
    await a.dataSource.query('DELETE FROM pipedrive_connections');
    fx.emu.setLatency({ tokenMs: 0 });
    fx.emu.resetCounts();
    events = [];
  });

  it('refreshes exactly the due connections, reports the dead one and leaves the others alone', async () => {
    const due = [...(await Promise.all([-600, -60, -1].map((s) => connect(s)))), await connect(200), await connect(299)];
    const fresh = await connect(3_000);
    // Under the 300 s margin but young: due at half its 20 s lifetime, not now.
    const shortLived = await connect(15, 20);
    const dead = await connect(-30);
    fx.emu.revokeRefreshTokens((await a.tokens.findConnection(dead))!.companyId);
    const untouched = { fresh: await expiryOf(fresh), shortLived: await expiryOf(shortLived) };

    expect(await a.sweeper.sweep()).toEqual({ refreshed: 5, skipped: 0, failed: 0, reauthorizationRequired: 1 });
    expect(fx.emu.counts.refreshToken).toBe(6);
    expect(refreshedIds().sort()).toEqual([...due].sort());
    for (const id of due) expect(await expiryOf(id)).toBeGreaterThan(fx.clock.now() + 3_000_000);
    expect({ fresh: await expiryOf(fresh), shortLived: await expiryOf(shortLived) }).toEqual(untouched);
    expect((await a.tokens.findConnection(dead))?.status).toBe('reauthorization_required');
    expect(events.filter((e) => e.type === 'pipedrive.connection.reauthorization_required')).toEqual([
      expect.objectContaining({ connectionId: dead, reason: 'invalid_grant' }),
    ]);

    expect(await a.sweeper.sweep()).toEqual(NOTHING);
    expect(fx.emu.counts.refreshToken).toBe(6);
  });

  it('leaves an unused connection alone until its token is keepAliveDays old, then refreshes it once', async () => {
    const idle = await connect(-60, 3_600, false);
    expect(await a.sweeper.sweep()).toEqual(NOTHING);
    // Issued 3,660 s ago: 30 days (the default keepAliveDays) after that, and one second before.
    await fx.clock.advance(30 * 86_400_000 - 3_660_000 - 1_000);
    expect(await a.sweeper.sweep()).toEqual(NOTHING);
    await fx.clock.advance(1_000);
    expect(await a.sweeper.sweep()).toEqual({ ...NOTHING, refreshed: 1 });
    expect(refreshedIds()).toEqual([idle]);
    // Refreshed by the sweep, not handed out: still idle, so the next due time does not count.
    await fx.clock.advance(2 * 3_600_000);
    expect(await a.sweeper.sweep()).toEqual(NOTHING);
    expect(fx.emu.counts.refreshToken).toBe(1);
  });

  it('refreshes ahead a connection used on another instance, and not its unused neighbour', async () => {
    const [used, unused] = [await connect(1_000, 3_600, false), await connect(1_000, 3_600, false)];
    await b.tokens.getAccessToken(used);
    const recorded = sql('SELECT COUNT(*) AS n FROM pipedrive_connections WHERE last_used_at IS NOT NULL AND id = $1');
    await waitFor(async () => Number((await a.dataSource.query(recorded, [used]))[0].n) === 1, "b's use to reach the row");
    // Once per token: further uses are served from memory without a write.
    const statements = b.queries();
    for (let i = 0; i < 20; i++) await b.tokens.getAccessToken(used);
    expect(b.queries()).toBe(statements);
    // In the 300 s margin: due for refresh-ahead.
    await fx.clock.advance(800_000);
    expect(await a.sweeper.sweep()).toEqual({ ...NOTHING, refreshed: 1 });
    expect(refreshedIds()).toEqual([used]);
    expect(events.find((e) => e.type === REFRESHED)).toMatchObject({ by: 'a', reason: 'refresh_ahead' });
    expect(await expiryOf(unused)).toBe(fx.clock.now() + 200_000);
  });

  it('two instances sweeping one database at once refresh each due connection once, skipping, not waiting', async () => {
    const due = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(-10 - i)));
    fx.emu.setLatency({ tokenMs: 200 });
    const [first, second] = await Promise.all([a.sweeper.sweep(), b.sweeper.sweep()]);
    expect(fx.emu.counts.refreshToken).toBe(12);
    expect(first.refreshed + second.refreshed).toBe(12);
    expect(first.refreshed).toBeGreaterThan(0);
    expect(second.refreshed).toBeGreaterThan(0);
    expect(first.failed + second.failed + first.reauthorizationRequired + second.reauthorizationRequired).toBe(0);
    expect(refreshedIds().sort()).toEqual([...due].sort());
    expect(new Set(events.filter((e) => e.type === REFRESHED).map((e) => e.by))).toEqual(new Set(['a', 'b']));
  });

  it('refreshes at most batchSize connections per sweep, those expiring first', async () => {
    const byExpiry = await Promise.all(Array.from({ length: 7 }, (_, i) => connect(-100 + i * 10)));
    const small = await start('small', { refreshSweep: { intervalSeconds: 3_600, batchSize: 3 } });
    expect(await small.sweeper.sweep()).toMatchObject({ refreshed: 3 });
    expect(refreshedIds().sort()).toEqual(byExpiry.slice(0, 3).sort());
    expect(await small.sweeper.sweep()).toMatchObject({ refreshed: 3 });
    expect(await small.sweeper.sweep()).toEqual({ ...NOTHING, refreshed: 1 });
    expect(fx.emu.counts.refreshToken).toBe(7);
    await small.close();
  });

  it('sweeps on its interval, survives failures, and stops when the app closes', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const ticking = await start('ticking', { refreshSweep: { intervalSeconds: 60, batchSize: 100 } });
    const sweeps = vi.spyOn(ticking.sweeper, 'sweep');
    const id = await connect(-5);
    fx.emu.failNextToken(1, 503);
    // The loop waits on the clock: between two sweeps it is the one sleeper.
    const waitingForNextSweep = () => waitFor(() => fx.clock.pendingSleeps === 1, 'the sweeper to wait for its next pass');
    await waitingForNextSweep();
    await fx.clock.advance(59_999);
    expect(sweeps).not.toHaveBeenCalled();
    // The first pass fails and backs the connection off 1 s, which has passed by the next pass.
    await fx.clock.advance(1);
    await waitingForNextSweep();
    expect(sweeps).toHaveBeenCalledTimes(1);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(refreshedIds()).toEqual([]);
    await fx.clock.advance(60_000);
    await waitingForNextSweep();
    expect(refreshedIds()).toEqual([id]);
    expect(fx.emu.counts.refreshToken).toBe(2);
    // A database that is gone: the pass logs (no secret) and the loop goes on.
    await ticking.dataSource.destroy();
    await fx.clock.advance(60_000);
    await waitingForNextSweep();
    const failed = (line: unknown) => String(line).startsWith('Refresh sweep failed: PipedriveStorageError');
    expect(errors.mock.calls.filter(([line]) => failed(line))).toHaveLength(1);
    errors.mockRestore();
    await ticking.close().catch(() => undefined);
    sweeps.mockClear();
    expect(fx.clock.pendingSleeps).toBe(0);
    await fx.clock.advance(600_000);
    expect(sweeps).not.toHaveBeenCalled();
  });
});
