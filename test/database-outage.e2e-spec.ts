import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  approve,
  basicAuth,
  connectAs,
  connectionsOf,
  expectNoTokensSeen,
  send,
  setCookieLine,
  start,
  STATE_COOKIE,
} from './support/browser-flow.js';
import { captureCrashes } from './support/capture.js';
import { createPostgresDatabase, type TestDatabase } from './support/postgres.js';
import { type ReferenceApp, startReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/**
 * PostgreSQL goes away under the running reference app (no new connections, open ones terminated)
 * and comes back: meanwhile every route answers a clear 503 or 4xx JSON, never 500, and the process
 * lives; afterwards everything works again with nothing lost.
 */
describe('database outage on postgres', () => {
  let db: TestDatabase;
  let app: ReferenceApp;
  /** Connected, then the app restarted: its token is not in memory. */
  let earlier: string;
  /** Connected after the restart: its token is in memory. */
  let cached: string;
  /** A flow started before the outage whose callback arrives during it. */
  let pending: { cookie: string; callbackUrl: string };
  /** Connections of the app's pool that PostgreSQL terminated. */
  let terminated: number;
  const { crashes, stop: stopCapturing } = captureCrashes();

  beforeAll(async () => {
    db = await createPostgresDatabase();
    app = await startReferenceApp({ databaseUrl: db.url });
    earlier = (await connectAs(app, 800, 1)).session;
    app = await app.restart();
    cached = (await connectAs(app, 800, 2)).session;
    app.emulator.setAuthorizeUser({ companyId: 800, userId: 3 });
    const started = await start(app);
    pending = { cookie: started.cookie, callbackUrl: await approve(started) };
    terminated = await db.suspend();
  });
  afterAll(async () => {
    stopCapturing();
    await db?.resume();
    await app?.close();
    await db?.drop();
  });

  const me = (session: string) => send(`${app.url}/pipedrive/me`, { headers: { cookie: session } });
  const uninstall = (companyId: number, userId: number) =>
    send(`${app.url}/auth/pipedrive/callback`, {
      method: 'DELETE',
      headers: {
        'content-type': 'application/json',
        authorization: basicAuth(TEST_CLIENT.clientId, TEST_CLIENT.clientSecret),
      },
      body: JSON.stringify({ client_id: TEST_CLIENT.clientId, company_id: companyId, user_id: userId }),
    });
  function expectUnavailable(answer: Answer) {
    expect(answer.status, answer.text).toBe(503);
    expect(answer.json).toEqual({ statusCode: 503, error: 'storage_unavailable', message: expect.any(String) });
  }

  describe('while the database is away', () => {
    it('reports it on /health', async () => {
      const answer = await send(`${app.url}/health`);
      expect(answer.status).toBe(503);
      expect(answer.json).toMatchObject({ status: 'error', database: 'down' });
    });

    it('answers GET /auth/pipedrive with 503 JSON: no redirect, no state cookie', async () => {
      const answer = await send(`${app.url}/auth/pipedrive`);
      expectUnavailable(answer);
      expect(answer.headers.location).toBeUndefined();
      expect(setCookieLine(answer, STATE_COOKIE)).toBeUndefined();
    });

    it('answers a callback with 503 JSON without exchanging its code, and a stateless one with 4xx', async () => {
      const exchanges = app.emulator.counts.authorizationCode;
      expectUnavailable(await send(pending.callbackUrl, { headers: { cookie: pending.cookie } }));
      const foreign = await send(pending.callbackUrl);
      expect(foreign.status).toBe(403);
      expect(foreign.json).toMatchObject({ error: 'invalid_state' });
      expect(app.emulator.counts.authorizationCode).toBe(exchanges);
    });

    it('serves a token held in memory, and answers 503 JSON when it must read the database', async () => {
      expect((await me(cached)).status).toBe(200);
      expectUnavailable(await me(earlier));
    });

    it("answers Pipedrive's uninstall call with 503", async () => {
      expectUnavailable(await uninstall(800, 1));
    });

    it('keeps the process up: no uncaught error from the terminated pool connections', async () => {
      expect(terminated).toBeGreaterThan(0);
      expect((await send(`${app.url}/health`)).status).toBe(503);
      expect(crashes).toEqual([]);
    });
  });

  describe('once it is back', () => {
    beforeAll(() => db.resume());

    it('is healthy and serves both sessions', async () => {
      expect((await send(`${app.url}/health`)).json).toEqual({ status: 'ok', database: 'up' });
      expect((await me(earlier)).status).toBe(200);
      expect((await me(cached)).status).toBe(200);
    });

    it('lost nothing: both connections are intact and no other was stored', async () => {
      const rows = await connectionsOf(app, 800);
      expect(rows.map((row) => [row.userId, row.status]).sort()).toEqual([
        [1, 'active'],
        [2, 'active'],
      ]);
      for (const row of rows) expect(row).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    });

    it('connects a new user', async () => {
      await connectAs(app, 800, 3);
      expect(crashes).toEqual([]);
    });
  });

  it('never sent a token in any response body or header', () => expectNoTokensSeen());
});
