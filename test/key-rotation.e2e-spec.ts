import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKeys } from '../src/app/rotate-keys.js';
import { PipedriveConnectionEntity } from '../src/database/pipedrive-connection.entity.js';
import { keyIdOf, TokenCipher } from '../src/tokens/token-cipher.js';
import type { TestApp as TokenModule } from './support/test-app.js';
import {
  createTokenFixture,
  TOKEN_TEST_CLIENT,
  TOKEN_TEST_REDIRECT,
  type DatabaseKind,
  type TokenFixture,
} from './support/token-fixture.js';

/**
 * `npm run rotate-keys` (rotateKeys, over rotatePipedriveEncryptionKeys) on a real SQLite file and on
 * PostgreSQL: rows written under two old keys end up under the current one while another instance
 * keeps refreshing some of them, and an instance that knows only the current key then reads them all.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('key rotation on %s', (kind) => {
  let fx: TokenFixture;
  const keyA = randomBytes(32).toString('base64');
  const keyB = randomBytes(32).toString('base64');
  const keyC = randomBytes(32).toString('base64');
  const saved: Array<{ id: string; accessToken: string; expired: boolean }> = [];
  let serving: TokenModule;

  const env = () => ({
    NODE_ENV: 'test',
    PIPEDRIVE_SANDBOX: 'false',
    PIPEDRIVE_CLIENT_ID: TOKEN_TEST_CLIENT.clientId,
    PIPEDRIVE_CLIENT_SECRET: TOKEN_TEST_CLIENT.clientSecret,
    PIPEDRIVE_REDIRECT_URI: TOKEN_TEST_REDIRECT,
    PIPEDRIVE_OAUTH_URL: fx.emu.url,
    PIPEDRIVE_ENCRYPTION_KEY: keyC,
    PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS: `${keyA},${keyB}`,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: fx.database.type === 'postgres' ? fx.database.url : `sqlite:${fx.database.path}`,
  });

  async function saveUnder(instance: TokenModule, first: number, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const user = { companyId: first + i, userId: 1 };
      const grant = fx.emu.grant({
        clientId: TOKEN_TEST_CLIENT.clientId,
        ...user,
      });
      const expired = i % 10 === 0; // refreshed by the serving instance while the rotation runs
      const { id } = await instance.tokens.saveConnection(user, {
        ...grant,
        expiresIn: expired ? 0 : 3_600,
      });
      saved.push({ id, accessToken: grant.accessToken, expired });
    }
  }

  async function keyIdsInRows(instance: TokenModule): Promise<Set<string | undefined>> {
    const rows = await instance.dataSource.getRepository(PipedriveConnectionEntity).find();
    return new Set(rows.flatMap((row) => [row.accessToken, row.refreshToken]).map((sealed) => TokenCipher.keyIdOf(sealed!)));
  }

  beforeAll(async () => {
    fx = await createTokenFixture(kind);
    await saveUnder(await fx.start({ encryptionKey: keyA }), 1_000, 130);
    await saveUnder(await fx.start({ encryptionKey: keyB, previousEncryptionKeys: [keyA] }), 2_000, 130);
    serving = await fx.start({
      encryptionKey: keyC,
      previousEncryptionKeys: [keyA, keyB],
    });
  }, 120_000);
  afterAll(() => fx?.close());

  it('rewrites every row under the current key in batches while the app refreshes, so the old keys can go', async () => {
    const idOf = (key: string) => keyIdOf(Buffer.from(key, 'base64'));
    expect(await keyIdsInRows(serving)).toEqual(new Set([idOf(keyA), idOf(keyB)]));
    fx.emu.resetCounts();
    fx.emu.setLatency({ tokenMs: 5 });
    const traffic = Promise.all(saved.filter((s) => s.expired).map((s) => serving.tokens.getAccessToken(s.id)));
    const first = await rotateKeys(env(), 40);
    await traffic;
    fx.emu.setLatency({ tokenMs: 0 });
    expect(first).toMatchObject({
      scanned: 260,
      undecryptable: 0,
      currentKeyId: idOf(keyC),
    });
    expect(first.rewritten + first.current + first.busy).toBe(260);
    // Rows busy refreshing during the first run are finished by a second one, as the command says.
    const second = await rotateKeys(env(), 40);
    expect(second).toMatchObject({ scanned: 260, busy: 0, undecryptable: 0 });
    // A busy row was either re-sealed by the refresh that held it (refreshes write under the current key) or now.
    expect(second.rewritten).toBeLessThanOrEqual(first.busy);
    expect(await keyIdsInRows(serving)).toEqual(new Set([idOf(keyC)]));
    // Each expired row was refreshed once: the rotation never made a refresh lose its write.
    expect(fx.emu.counts.refreshToken).toBe(saved.filter((s) => s.expired).length);

    const retired = await fx.start({
      encryptionKey: keyC,
      previousEncryptionKeys: [],
    });
    for (const { id, accessToken, expired } of saved) {
      const token = await retired.tokens.getAccessToken(id);
      if (!expired) expect(token.accessToken).toBe(accessToken);
    }
    // The refresh tokens open too: expire a few and refresh them with the current key alone.
    const some = saved.filter((s) => !s.expired).slice(0, 5);
    const repo = retired.dataSource.getRepository(PipedriveConnectionEntity);
    for (const { id } of some) await repo.update({ id }, { expiresAt: 0, tokenIssuedAt: 0 });
    const retiredFresh = await fx.start({
      encryptionKey: keyC,
      previousEncryptionKeys: [],
    });
    for (const { id, accessToken } of some) expect((await retiredFresh.tokens.getAccessToken(id)).accessToken).not.toBe(accessToken);
  }, 120_000);

  it('reports rows under a key it was not given as undecryptable and leaves them as they are', async () => {
    const lost = await fx.start({
      encryptionKey: randomBytes(32).toString('base64'),
    });
    const grant = fx.emu.grant({
      clientId: TOKEN_TEST_CLIENT.clientId,
      companyId: 3_000,
      userId: 1,
    });
    const { id } = await lost.tokens.saveConnection({ companyId: 3_000, userId: 1 }, grant);
    const before = await lost.dataSource.getRepository(PipedriveConnectionEntity).findOneByOrFail({ id });
    const summary = await rotateKeys(env(), 40);
    expect(summary).toMatchObject({
      undecryptable: 1,
      rewritten: 0,
      busy: 0,
    });
    const after = await lost.dataSource.getRepository(PipedriveConnectionEntity).findOneByOrFail({ id });
    expect(after.accessToken).toBe(before.accessToken);
  }, 60_000);
});
