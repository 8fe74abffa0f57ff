import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PipedriveReauthorizationRequiredError, PipedriveTokenEndpointError } from '../src/errors/pipedrive.errors.js';
import type { PipedriveConnectionEvent } from '../src/tokens/pipedrive-events.js';
import { failureOf } from './support/capture.js';
import type { TestApp } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';

describe.each<DatabaseKind>(['sqlite', 'postgres'])('token lifecycle on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TestApp;
  let events: PipedriveConnectionEvent[];
  let nextCompany = 100;
  const user = () => ({ companyId: nextCompany++, userId: 7 });

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    // Time passes only when a test advances fx.clock: expiry, refresh-ahead and back-off take no real time.
    instance = await fx.start({}, { clock: fx.clock });
    instance.events.on((event) => void events.push(event));
  });
  afterAll(() => fx?.close());
  beforeEach(() => {
    events = [];
    fx.emu.setLatency({ tokenMs: 0 });
    fx.emu.resetCounts();
  });

  it('answers 1,000 concurrent callers of one expired connection with one refresh', async () => {
    const { connection, grant } = await fx.saveExpired(instance, user());
    fx.emu.setLatency({ tokenMs: 100 });
    const queriesBefore = instance.queries();
    const tokens = await Promise.all(Array.from({ length: 1_000 }, () => instance.tokens.getAccessToken(connection.id)));
    expect(fx.emu.counts.refreshToken).toBe(1);
    // Single-flight: the callers share one read, one lease and one write, not a database poll each.
    expect(instance.queries() - queriesBefore).toBeLessThanOrEqual(5);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0].accessToken).not.toBe(grant.accessToken);
    expect(tokens[0].expiresAt).toBeGreaterThan(fx.clock.now() + 3_000_000);
    expect(events.filter((e) => e.type === 'pipedrive.connection.refreshed')).toHaveLength(1);
  });

  it('refreshes 100 connections expiring together once each, in parallel', async () => {
    const saved = await Promise.all(Array.from({ length: 100 }, () => fx.saveExpired(instance, user())));
    fx.emu.setLatency({ tokenMs: 300 });
    let receivedAtFirstAnswer: number | undefined;
    const calls = saved.flatMap(({ connection }) =>
      Array.from({ length: 5 }, () =>
        instance.tokens.getAccessToken(connection.id).then((token) => {
          receivedAtFirstAnswer ??= fx.emu.counts.refreshToken;
          return token;
        }),
      ),
    );
    const tokens = await Promise.all(calls);
    expect(fx.emu.counts.refreshToken).toBe(100);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(100);
    // In parallel: Pipedrive had received more than one refresh before it answered the first (serially, exactly one).
    expect(receivedAtFirstAnswer).toBeGreaterThan(1);
  });

  it('serves a valid token from memory without refreshing or reading the database', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    const first = await instance.tokens.getAccessToken(connection.id);
    await instance.dataSource.query(
      'UPDATE pipedrive_connections SET api_domain = $1 WHERE id = $2'.replace(/\$\d/g, kind === 'sqlite' ? '?' : '$&'),
      ['http://changed.invalid', connection.id],
    );
    const queriesBefore = instance.queries();
    for (let i = 0; i < 1_000; i++) expect(await instance.tokens.getAccessToken(connection.id)).toBe(first);
    expect(instance.queries()).toBe(queriesBefore);
    expect(fx.emu.counts.refreshToken).toBe(1);
  });

  it('refreshes ahead of expiry, but not on every call for tokens shorter than the margin', async () => {
    const u = user();
    const grant = fx.emu.grant({ clientId: fx.options().clientId, ...u });
    const { id } = await instance.tokens.saveConnection(u, {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      tokenType: 'Bearer',
      expiresIn: 2, // margin 300 s, so the effective margin is half the lifetime: 1 s
      scopes: ['base'],
      apiDomain: grant.apiDomain,
    });
    for (let i = 0; i < 20; i++) expect((await instance.tokens.getAccessToken(id)).accessToken).toBe(grant.accessToken);
    expect(fx.emu.counts.refreshToken).toBe(0);
    await fx.clock.advance(1_000);
    const ahead = await instance.tokens.getAccessToken(id);
    expect(ahead.accessToken).not.toBe(grant.accessToken);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(events.find((e) => e.type === 'pipedrive.connection.refreshed')?.reason).toBe('refresh_ahead');
  });

  it('shares one refresh among concurrent 401s and ignores a stale rejectedToken', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    const current = await instance.tokens.getAccessToken(connection.id);
    fx.emu.resetCounts();
    fx.emu.setLatency({ tokenMs: 100 });
    const rejected = { rejectedToken: current.accessToken };
    const after = await Promise.all(Array.from({ length: 50 }, () => instance.tokens.getAccessToken(connection.id, rejected)));
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect(new Set(after.map((t) => t.accessToken))).toEqual(new Set([after[0].accessToken]));
    expect(after[0].accessToken).not.toBe(current.accessToken);
    // A late 401 for the old token: the stored one already differs.
    expect((await instance.tokens.getAccessToken(connection.id, rejected)).accessToken).toBe(after[0].accessToken);
    expect(fx.emu.counts.refreshToken).toBe(1);
  });

  it('marks invalid_grant as reauthorization_required once and stops calling Pipedrive', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    fx.emu.revokeRefreshTokens(connection.companyId);
    fx.emu.setLatency({ tokenMs: 50 });
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => instance.tokens.getAccessToken(connection.id)));
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof PipedriveReauthorizationRequiredError)).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason.reason).toBe('invalid_grant');
    for (let i = 0; i < 10; i++) {
      await expect(instance.tokens.getAccessToken(connection.id)).rejects.toBeInstanceOf(PipedriveReauthorizationRequiredError);
    }
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect((await instance.tokens.findConnection(connection.id))?.status).toBe('reauthorization_required');
    expect(events.filter((e) => e.type === 'pipedrive.connection.reauthorization_required')).toEqual([
      {
        type: 'pipedrive.connection.reauthorization_required',
        connectionId: connection.id,
        companyId: connection.companyId,
        userId: 7,
        reason: 'invalid_grant',
      },
    ]);
    // Authorizing again brings the same row back.
    const again = await fx.saveExpired(instance, { companyId: connection.companyId, userId: 7 });
    expect(again.connection).toMatchObject({ id: connection.id, status: 'active' });
    await expect(instance.tokens.getAccessToken(connection.id)).resolves.toBeDefined();
  });

  it.each([503, 'garbage', 'reset'] as const)('on %s: does not mark, backs off, recovers', async (fault) => {
    const { connection } = await fx.saveExpired(instance, user());
    fx.emu.failNextToken(1, fault);
    const failed = await failureOf(instance.tokens.getAccessToken(connection.id));
    expect(failed).toBeInstanceOf(PipedriveTokenEndpointError);
    expect((failed as PipedriveTokenEndpointError).details.transient).toBe(true);
    // Within the back-off nobody calls Pipedrive, in this instance or another.
    const other = await fx.start({}, { clock: fx.clock });
    await expect(other.tokens.getAccessToken(connection.id)).rejects.toMatchObject({ details: { transient: true } });
    await expect(instance.tokens.getAccessToken(connection.id)).rejects.toBeInstanceOf(PipedriveTokenEndpointError);
    expect(fx.emu.counts.refreshToken).toBe(1);
    expect((await instance.tokens.findConnection(connection.id))?.status).toBe('active');
    await fx.clock.advance(999);
    await expect(instance.tokens.getAccessToken(connection.id)).rejects.toBeInstanceOf(PipedriveTokenEndpointError);
    await fx.clock.advance(1); // the first back-off is 1 s
    await expect(instance.tokens.getAccessToken(connection.id)).resolves.toMatchObject({ connectionId: connection.id });
    expect(fx.emu.counts.refreshToken).toBe(2);
    await other.close();
  });

  it('keeps handing out a still-valid token when a refresh ahead of time fails', async () => {
    const u = user();
    const grant = fx.emu.grant({ clientId: fx.options().clientId, ...u });
    const tokens = {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      tokenType: 'Bearer' as const,
      scopes: ['base'],
      apiDomain: grant.apiDomain,
    };
    const { id } = await instance.tokens.saveConnection(u, { ...tokens, expiresIn: 2 });
    await fx.clock.advance(1_000); // due: half its 2 s lifetime
    fx.emu.failNextToken(1, 500);
    expect((await instance.tokens.getAccessToken(id)).accessToken).toBe(grant.accessToken);
    expect((await instance.tokens.getAccessToken(id)).accessToken).toBe(grant.accessToken);
    expect(fx.emu.counts.refreshToken).toBe(1);
  });

  it('stores the api_domain Pipedrive returns on refresh', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    fx.emu.setApiDomain(connection.companyId, 'https://moved.pipedrive.com');
    const token = await instance.tokens.getAccessToken(connection.id);
    expect(token.apiDomain).toBe('https://moved.pipedrive.com');
    expect((await instance.tokens.findConnection(connection.id))?.apiDomain).toBe('https://moved.pipedrive.com');
  });

  it('keeps connections across a restart on the same database', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    const token = await instance.tokens.getAccessToken(connection.id);
    const restarted = await fx.start({}, { clock: fx.clock });
    expect(await restarted.tokens.findConnection(connection.id)).toMatchObject({ id: connection.id, status: 'active' });
    expect(await restarted.tokens.getAccessToken(connection.id)).toEqual(token);
    expect(fx.emu.counts.refreshToken).toBe(1);
    await restarted.close();
  });

  it('never writes a token in plain text to the database', async () => {
    const { connection, grant } = await fx.saveExpired(instance, user());
    const refreshed = await instance.tokens.getAccessToken(connection.id);
    const rows = JSON.stringify(await instance.dataSource.query('SELECT * FROM pipedrive_connections'));
    const files = [Buffer.from(rows)];
    if (kind === 'sqlite') {
      await instance.dataSource.query('PRAGMA wal_checkpoint(FULL)');
      files.push(...readdirSync(fx.dir).map((name) => readFileSync(join(fx.dir, name))));
      expect(files.length).toBeGreaterThan(1);
    }
    expect(rows).toContain(connection.id);
    for (const secret of [grant.accessToken, grant.refreshToken, refreshed.accessToken]) {
      for (const bytes of files) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
  });
});
