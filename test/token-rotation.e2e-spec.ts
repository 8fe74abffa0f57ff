import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenFixture, type TokenFixture } from './support/token-fixture.js';

/**
 * Pipedrive keeps the refresh token on refresh; a provider that rotates it would retire the old one.
 * With the emulator rotating, the token store must keep the newest refresh token, or the next refresh
 * fails with invalid_grant and the user has to connect again.
 */
describe.each(['sqlite', 'postgres'] as const)('a rotated refresh token on %s', (database) => {
  let fx: TokenFixture;

  beforeEach(async () => {
    fx = await createTokenFixture(database);
    fx.emu.setRefreshTokenRotation(true);
    fx.emu.setLatency({ tokenMs: 100 }); // widens the race between the instances
  });
  afterEach(() => fx?.close());

  it('is stored by the instance that refreshed, and the next refresh (on another instance) uses it', async () => {
    const [a, b] = [await fx.start(), await fx.start()];
    const { connection } = await fx.saveExpired(a, { companyId: 40, userId: 1 });
    const calls = Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).tokens.getAccessToken(connection.id));
    const tokens = new Set((await Promise.all(calls)).map((token) => token.accessToken));
    expect(tokens.size).toBe(1);
    expect(fx.emu.counts.refreshToken).toBe(1);

    // The access token is refused: b refreshes with whatever refresh token the row now holds.
    const [rejected] = tokens;
    const next = await b.tokens.getAccessToken(connection.id, { rejectedToken: rejected });
    expect(next.accessToken).not.toBe(rejected);
    expect(fx.emu.counts.refreshToken).toBe(2);
    expect(fx.emu.counts.tokenErrors).toBe(0);
    expect(await a.tokens.findConnection(connection.id)).toMatchObject({ status: 'active' });
  });

  it('survives a restart: the rotated token is what the database holds', async () => {
    const first = await fx.start();
    const { connection } = await fx.saveExpired(first, { companyId: 41, userId: 1 });
    const { accessToken } = await first.tokens.getAccessToken(connection.id);
    await first.close();
    const restarted = await fx.start();
    await restarted.tokens.getAccessToken(connection.id, { rejectedToken: accessToken });
    expect(fx.emu.counts.refreshToken).toBe(2);
    expect(fx.emu.counts.tokenErrors).toBe(0);
  });
});
