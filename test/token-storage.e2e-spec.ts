import { randomBytes } from 'node:crypto';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PipedriveConnectionNotFoundError,
  PipedriveReauthorizationRequiredError,
  PipedriveTokenEndpointError,
} from '../src/errors/pipedrive.errors.js';
import type { PipedriveConnectionEvent } from '../src/tokens/pipedrive-events.js';
import { PipedriveOAuthClient } from '../src/tokens/pipedrive-oauth.client.js';
import { TokenCipher } from '../src/tokens/token-cipher.js';
import type { TestApp } from './support/test-app.js';
import { createTokenFixture, type DatabaseKind, type TokenFixture } from './support/token-fixture.js';

describe.each<DatabaseKind>(['sqlite', 'postgres'])('token storage on %s', (kind) => {
  let fx: TokenFixture;
  let instance: TestApp;
  let nextCompany = 500;
  const user = (userId = 1) => ({ companyId: nextCompany++, userId });
  const ciphertexts = async (id: string) =>
    (await instance.dataSource.query(`SELECT access_token, refresh_token FROM pipedrive_connections WHERE id = '${id}'`))[0];

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    instance = await fx.start({}, { imports: [EventEmitterModule.forRoot()] });
  });
  afterAll(() => fx?.close());
  beforeEach(() => {
    fx.emu.resetCounts();
  });

  it('keeps companies and users apart, one row per pair', async () => {
    const a = await fx.saveExpired(instance, { companyId: 900, userId: 1 });
    const b = await fx.saveExpired(instance, { companyId: 900, userId: 2 });
    const c = await fx.saveExpired(instance, { companyId: 901, userId: 1 });
    expect(new Set([a.connection.id, b.connection.id, c.connection.id]).size).toBe(3);
    const [ta, tb, tc] = await Promise.all([a, b, c].map((s) => instance.tokens.getAccessToken(s.connection.id)));
    expect(new Set([ta.accessToken, tb.accessToken, tc.accessToken]).size).toBe(3);
    expect(await instance.tokens.findConnectionByUser(900, 2)).toMatchObject({ id: b.connection.id, companyId: 900, userId: 2 });
    const again = await fx.saveExpired(instance, { companyId: 900, userId: 2 });
    expect(again.connection.id).toBe(b.connection.id);
    const [{ count }] = await instance.dataSource.query('SELECT COUNT(*) AS count FROM pipedrive_connections WHERE company_id = 900');
    expect(Number(count)).toBe(2);
  });

  it('gives concurrent first authorizations of one pair a single row', async () => {
    const u = user();
    const other = await fx.start();
    const saved = await Promise.all([instance, other, instance, other].map((i) => fx.saveExpired(i, u)));
    expect(new Set(saved.map((s) => s.connection.id)).size).toBe(1);
    const rows = await instance.dataSource.query(`SELECT id FROM pipedrive_connections WHERE company_id = ${u.companyId}`);
    expect(rows).toHaveLength(1);
    await other.close();
  });

  it('refuses a ciphertext copied from another row', async () => {
    const a = await fx.saveExpired(instance, user());
    const b = await fx.saveExpired(instance, user());
    const fresh = await fx.start();
    const stolen = await ciphertexts(a.connection.id);
    await instance.dataSource.query(
      `UPDATE pipedrive_connections SET access_token = '${stolen.access_token}', expires_at = ${Date.now() + 3_600_000} WHERE id = '${b.connection.id}'`,
    );
    await expect(fresh.tokens.getAccessToken(b.connection.id)).rejects.toMatchObject({
      name: 'PipedriveReauthorizationRequiredError',
      reason: 'undecryptable',
    });
    await fresh.close();
  });

  it('rotates keys: old rows stay readable and move to the new key when refreshed', async () => {
    const { connection, grant } = await fx.saveExpired(instance, user());
    const oldKeyId = TokenCipher.keyIdOf((await ciphertexts(connection.id)).access_token);
    const rotated = await fx.start({
      encryptionKey: randomBytes(32).toString('base64'),
      previousEncryptionKeys: [fx.options().encryptionKey],
    });
    const token = await rotated.tokens.getAccessToken(connection.id);
    expect(token.accessToken).not.toBe(grant.accessToken);
    const row = await ciphertexts(connection.id);
    expect(TokenCipher.keyIdOf(row.access_token)).not.toBe(oldKeyId);
    expect(TokenCipher.keyIdOf(row.refresh_token)).toBe(TokenCipher.keyIdOf(row.access_token));
    // Without the new key, the row cannot be read, and it is not marked either.
    const stale = await fx.start();
    await expect(stale.tokens.getAccessToken(connection.id)).rejects.toMatchObject({ reason: 'undecryptable' });
    expect((await stale.tokens.findConnection(connection.id))?.status).toBe('active');
    await rotated.close();
    await stale.close();
  });

  it('disconnects: revokes at Pipedrive, erases the tokens, emits revoked', async () => {
    const { connection, grant } = await fx.saveExpired(instance, user());
    const seen: unknown[] = [];
    const emitter = instance.app.get(EventEmitter2);
    emitter.on('pipedrive.connection.revoked', (event: unknown) => seen.push(event));
    await instance.tokens.disconnect(connection.id);
    expect(fx.emu.counts.revoke).toBe(1);
    expect(await ciphertexts(connection.id)).toEqual({ access_token: null, refresh_token: null });
    expect((await instance.tokens.findConnection(connection.id))?.status).toBe('revoked');
    expect(seen).toEqual([
      {
        type: 'pipedrive.connection.revoked',
        connectionId: connection.id,
        companyId: connection.companyId,
        userId: 1,
        reason: 'disconnected',
      },
    ]);
    await expect(instance.tokens.getAccessToken(connection.id)).rejects.toMatchObject({ reason: 'revoked' });
    // Pipedrive killed the refresh token as well.
    await expect(instance.app.get(PipedriveOAuthClient).refresh(grant.refreshToken)).rejects.toMatchObject({
      details: { oauthError: 'invalid_grant' },
    });
  });

  it('keeps the tokens when revoking fails, so the disconnect can be retried', async () => {
    const { connection } = await fx.saveExpired(instance, user());
    fx.emu.failNextRevoke(1, 503);
    await expect(instance.tokens.disconnect(connection.id)).rejects.toBeInstanceOf(PipedriveTokenEndpointError);
    expect((await instance.tokens.findConnection(connection.id))?.status).toBe('active');
    expect((await ciphertexts(connection.id)).refresh_token).not.toBeNull();
    await instance.tokens.disconnect(connection.id);
    expect((await instance.tokens.findConnection(connection.id))?.status).toBe('revoked');
    await expect(instance.tokens.disconnect('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(
      PipedriveConnectionNotFoundError,
    );
  });

  it('uninstalls: erases tokens, says whether the connection existed, never calls Pipedrive', async () => {
    const u = user(3);
    const { connection } = await fx.saveExpired(instance, u);
    const events: PipedriveConnectionEvent[] = [];
    const off = instance.events.on((e) => void events.push(e));
    expect(await instance.tokens.uninstall(u.companyId, u.userId)).toBe(true);
    expect(await instance.tokens.uninstall(u.companyId, 999)).toBe(false);
    off();
    expect(fx.emu.counts.revoke).toBe(0);
    expect(events).toEqual([expect.objectContaining({ type: 'pipedrive.connection.revoked', reason: 'uninstalled' })]);
    await expect(instance.tokens.getAccessToken(connection.id)).rejects.toBeInstanceOf(PipedriveReauthorizationRequiredError);
  });

  it('survives failing listeners and never puts tokens in events', async () => {
    const events: PipedriveConnectionEvent[] = [];
    const offs = [
      instance.events.on(() => {
        throw new Error('listener bug');
      }),
      instance.events.on(async () => Promise.reject(new Error('async listener bug'))),
      instance.events.on((e) => void events.push(e)),
    ];
    const { connection, grant } = await fx.saveExpired(instance, user());
    const token = await instance.tokens.getAccessToken(connection.id);
    offs.forEach((off) => off());
    expect(events.map((e) => e.type)).toEqual(['pipedrive.connection.created', 'pipedrive.connection.refreshed']);
    const text = JSON.stringify(events);
    for (const secret of [grant.accessToken, grant.refreshToken, token.accessToken]) expect(text).not.toContain(secret);
  });

  it('throws not-found for unknown connections', async () => {
    await expect(instance.tokens.getAccessToken('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(
      PipedriveConnectionNotFoundError,
    );
    expect(await instance.tokens.findConnection('00000000-0000-0000-0000-000000000000')).toBeNull();
  });
});
