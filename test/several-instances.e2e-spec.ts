import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve, connectionsOf, cookiesOf, send, SESSION_COOKIE, start } from './support/browser-flow.js';
import { createPostgresDatabase, type TestDatabase } from './support/postgres.js';
import { type ReferenceApp, startReferenceApp } from './support/reference-app.js';

/**
 * Two instances of the reference app behind one public URL, on one PostgreSQL database, as a load
 * balancer would spread a browser's requests: OAuth state, sessions and tokens work on either.
 */
describe('two instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: ReferenceApp;
  let b: ReferenceApp;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const shared = {
      PIPEDRIVE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startReferenceApp({ databaseUrl: database.url, env: shared });
    b = await startReferenceApp({
      databaseUrl: database.url,
      emulator: a.emulator,
      env: shared,
      redirectUri: `${a.url}/auth/pipedrive/callback`,
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database?.drop();
  });

  it('finishes on one instance a connection started on the other, once', async () => {
    a.emulator.setAuthorizeUser({ companyId: 900, userId: 1 });
    const started = await start(a);
    const callbackUrl = await approve(started);
    const answer = await send(callbackUrl.replace(a.url, b.url), { headers: { cookie: started.cookie } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ companyId: 900, userId: 1, status: 'active' });

    const replayOnA = await send(callbackUrl, { headers: { cookie: started.cookie } });
    expect(replayOnA.status).toBe(403);
    expect(replayOnA.json).toMatchObject({ error: 'invalid_state' });
    expect(a.emulator.counts.authorizationCode).toBe(1);
    expect(await connectionsOf(a, 900)).toHaveLength(1);

    const session = `${SESSION_COOKIE}=${cookiesOf(answer.headers)[SESSION_COOKIE]}`;
    for (const instance of [a, b]) {
      const me = await send(`${instance.url}/pipedrive/me`, { headers: { cookie: session } });
      expect(me.status, me.text).toBe(200);
      expect(me.json).toMatchObject({ id: 1, company_id: 900 });
    }
  });

  it('refreshes once for both instances when Pipedrive stops accepting the access token', async () => {
    a.emulator.setAuthorizeUser({ companyId: 901, userId: 1 });
    const started = await start(a);
    const answer = await send(await approve(started), { headers: { cookie: started.cookie } });
    const session = `${SESSION_COOKIE}=${cookiesOf(answer.headers)[SESSION_COOKIE]}`;
    a.emulator.invalidateAccessTokens(901);
    a.emulator.setLatency({ tokenMs: 200 });
    a.emulator.resetCounts();
    const calls = [a, b, a, b, a, b].map((instance) => send(`${instance.url}/pipedrive/me`, { headers: { cookie: session } }));
    const answers = await Promise.all(calls);
    a.emulator.setLatency({ tokenMs: 0 });
    expect(answers.map((me) => me.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(a.emulator.counts.refreshToken).toBe(1);
  });
});
