import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SESSION_COOKIE,
  connectAs,
  connectionsOf,
  expectNoTokensSeen,
  send,
  setCookieLine,
  startOn,
  basicAuth,
} from './support/browser-flow.js';
import { type ReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/** Ending a connection through the reference app: Pipedrive's uninstall call and the user's disconnect. */
describe.each(['sqlite', 'postgres'] as const)('uninstall and disconnect on %s', (database) => {
  let app: ReferenceApp;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, stop } = await startOn(database));
  });
  afterAll(() => stop?.());

  const me = (session: string) => send(`${app.url}/pipedrive/me`, { headers: { cookie: session } });

  describe('DELETE /auth/pipedrive/callback (uninstall)', () => {
    const good = () => basicAuth(TEST_CLIENT.clientId, TEST_CLIENT.clientSecret);
    const notice = (companyId: number, userId: number, clientId = TEST_CLIENT.clientId) =>
      JSON.stringify({ client_id: clientId, company_id: companyId, user_id: userId, timestamp: new Date().toISOString() });
    const uninstall = (headers: Record<string, string>, body: string) =>
      send(`${app.url}/auth/pipedrive/callback`, {
        method: 'DELETE',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    it.each([
      ['no credentials', {}],
      ['a wrong secret', { authorization: basicAuth(TEST_CLIENT.clientId, 'wrong-secret') }],
      ['a wrong client id', { authorization: basicAuth('someone-else', TEST_CLIENT.clientSecret) }],
      ['a bearer token', { authorization: `Bearer ${TEST_CLIENT.clientSecret}` }],
    ])('answers 401 to %s and erases nothing', async (_name, headers) => {
      const { session } = await connectAs(app, 600, 1);
      const answer = await uninstall(headers, notice(600, 1));
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ statusCode: 401, error: 'invalid_client' });
      expect((await connectionsOf(app, 600, 1))[0]).toMatchObject({ status: 'active', accessToken: expect.any(String) });
      expect((await me(session)).status).toBe(200);
    });

    it("answers 401 to another app's client_id in the body, even with our credentials", async () => {
      await connectAs(app, 601, 1);
      const answer = await uninstall({ authorization: good() }, notice(601, 1, 'someone-else'));
      expect(answer.status).toBe(401);
      expect((await connectionsOf(app, 601, 1))[0]!.status).toBe('active');
    });

    it.each([
      ['a body without user_id', JSON.stringify({ client_id: TEST_CLIENT.clientId, company_id: 602 })],
      ['a non-numeric company_id', JSON.stringify({ client_id: TEST_CLIENT.clientId, company_id: 'x', user_id: 1 })],
      ['broken JSON', '{"client_id":'],
    ])('answers 400 to %s with valid credentials', async (_name, body) => {
      await connectAs(app, 602, 1);
      expect((await uninstall({ authorization: good() }, body)).status).toBe(400);
      expect((await connectionsOf(app, 602, 1))[0]!.status).toBe('active');
    });

    it('erases the tokens of that user only, with the right credentials', async () => {
      const target = await connectAs(app, 603, 1);
      const neighbour = await connectAs(app, 603, 2);
      expect((await uninstall({ authorization: good() }, notice(603, 1))).status).toBe(200);
      expect((await connectionsOf(app, 603, 1))[0]).toMatchObject({ status: 'revoked', accessToken: null, refreshToken: null });
      expect((await connectionsOf(app, 603, 2))[0]!.status).toBe('active');
      const answer = await me(target.session);
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'reauthorization_required' });
      expect((await me(neighbour.session)).status).toBe(200);
    });

    it('handles the uninstall call as Pipedrive sends it when the user removes the app', async () => {
      const { session } = await connectAs(app, 604, 1);
      const status = await app.emulator.uninstall({ clientId: TEST_CLIENT.clientId, companyId: 604, userId: 1 });
      expect(status).toBe(200);
      expect((await connectionsOf(app, 604, 1))[0]).toMatchObject({ status: 'revoked', accessToken: null, refreshToken: null });
      expect((await me(session)).json).toMatchObject({ error: 'reauthorization_required' });
    });
  });

  describe('POST /auth/pipedrive/disconnect', () => {
    const disconnect = (cookie?: string) =>
      send(`${app.url}/auth/pipedrive/disconnect`, { method: 'POST', headers: cookie ? { cookie } : {} });

    it('needs a valid session', async () => {
      expect((await disconnect()).json).toMatchObject({ statusCode: 401, error: 'session_required' });
      const { session } = await connectAs(app, 700, 1);
      const tampered = session.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      expect((await disconnect(tampered)).json).toMatchObject({ statusCode: 401, error: 'invalid_session' });
      expect((await me(tampered)).status).toBe(401);
      expect((await connectionsOf(app, 700, 1))[0]!.status).toBe('active');
    });

    it('keeps the tokens and answers 502 when Pipedrive cannot revoke', async () => {
      const { session } = await connectAs(app, 701, 1);
      app.emulator.failNextRevoke(1, 503);
      const answer = await disconnect(session);
      expect(answer.status).toBe(502);
      expect(answer.json).toMatchObject({ statusCode: 502, error: 'revoke_failed' });
      expect((await connectionsOf(app, 701, 1))[0]).toMatchObject({ status: 'active', refreshToken: expect.any(String) });
      expect((await me(session)).status).toBe(200);
    });

    it('revokes at Pipedrive, erases the tokens and clears the session cookie', async () => {
      const { session } = await connectAs(app, 702, 1);
      const revokes = app.emulator.counts.revoke;
      const answer = await disconnect(session);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ status: 'revoked' });
      expect(app.emulator.counts.revoke).toBe(revokes + 1);
      expect(app.emulator.requests.filter((r) => r.path === '/oauth/revoke').at(-1)).toMatchObject({ auth: 'basic' });
      expect(setCookieLine(answer, SESSION_COOKIE)).toMatch(/Max-Age=0/);
      expect((await connectionsOf(app, 702, 1))[0]).toMatchObject({ status: 'revoked', accessToken: null, refreshToken: null });
      expect((await me(session)).status).toBe(401);
    });
  });

  it('never sent a token in any response body or header', () => expectNoTokensSeen());
});
