import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipedriveOAuthStateEntity } from '../src/database/pipedrive-oauth-state.entity.js';
import { PIPEDRIVE_OPTIONS, type ResolvedPipedriveOptions } from '../src/index.js';
import {
  type Answer,
  approve,
  connectAs,
  connectionsOf,
  expectNoTokensSeen,
  send,
  setCookieLine,
  start,
  startOn,
  STATE_COOKIE,
  withState,
  SESSION_COOKIE,
} from './support/browser-flow.js';
import { type ReferenceApp, startReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/**
 * The OAuth flow of the reference app over real HTTP against the emulator, on a SQLite file and on
 * PostgreSQL: connecting, every refused state, denial, token endpoint and identity failures.
 */
describe.each(['sqlite', 'postgres'] as const)('Pipedrive OAuth flow on %s', (database) => {
  let app: ReferenceApp;
  let databaseUrl: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ app, databaseUrl, stop } = await startOn(database));
  });
  afterAll(() => stop?.());

  /** Runs a callback that must be refused before any token request, storing nothing. */
  async function refusedWithoutTokenRequest(companyId: number, call: () => Promise<Answer>): Promise<Answer> {
    const before = app.emulator.counts.authorizationCode;
    const answer = await call();
    expect(app.emulator.counts.authorizationCode).toBe(before);
    expect(await connectionsOf(app, companyId)).toHaveLength(0);
    return answer;
  }

  function expectInvalidState(answer: Answer) {
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ statusCode: 403, error: 'invalid_state', message: expect.any(String) });
  }

  it('connects: authorize redirect -> Pipedrive -> callback JSON and session cookie -> /pipedrive/me', async () => {
    app.emulator.setAuthorizeUser({ companyId: 100, userId: 7 });
    const started = await start(app);
    const authorize = started.authorizeUrl;
    expect(authorize.origin + authorize.pathname).toBe(`${app.emulator.url}/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(TEST_CLIENT.clientId);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${app.url}/auth/pipedrive/callback`);
    expect(authorize.searchParams.has('scope')).toBe(false);
    expect(authorize.searchParams.get('state')).toBe(started.state);
    expect(Buffer.from(started.state, 'base64url').length).toBeGreaterThanOrEqual(32);

    const answer = await send(await approve(started), { headers: { cookie: started.cookie } });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      companyId: 100,
      userId: 7,
      apiDomain: app.emulator.url,
      scopes: expect.arrayContaining(['base']),
      status: 'active',
    });
    expect(setCookieLine(answer, SESSION_COOKIE)).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/);
    expect(setCookieLine(answer, STATE_COOKIE)).toMatch(/Max-Age=0/);
    const exchange = app.emulator.requests.filter((r) => r.path === '/oauth/token').at(-1);
    expect(exchange).toMatchObject({ method: 'POST', auth: 'basic', contentType: expect.stringContaining('x-www-form-urlencoded') });

    const session = `${SESSION_COOKIE}=${/^[^=]+=([^;]*)/.exec(setCookieLine(answer, SESSION_COOKIE)!)![1]}`;
    const me = await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ id: 7, company_id: 100 });
    expect(await connectionsOf(app, 100, 7)).toHaveLength(1);
  });

  it('sets the state cookie httpOnly, SameSite=Lax, for stateTtlSeconds', async () => {
    const line = setCookieLine(await send(`${app.url}/auth/pipedrive`), STATE_COOKIE)!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Lax/);
    const { stateTtlSeconds } = app.app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS);
    expect(Number(/Max-Age=(\d+)/.exec(line)![1])).toBe(stateTtlSeconds);
  });

  it('refuses a forged state, even with a matching cookie', async () => {
    app.emulator.setAuthorizeUser({ companyId: 201, userId: 1 });
    const callbackUrl = await approve(await start(app));
    const forged = randomBytes(32).toString('base64url');
    const cookie = `${STATE_COOKIE}=${forged}`;
    expectInvalidState(await refusedWithoutTokenRequest(201, () => send(withState(callbackUrl, forged), { headers: { cookie } })));
  });

  it('refuses a replayed state', async () => {
    app.emulator.setAuthorizeUser({ companyId: 202, userId: 1 });
    const started = await start(app);
    const callbackUrl = await approve(started);
    expect((await send(callbackUrl, { headers: { cookie: started.cookie } })).status).toBe(200);
    const before = app.emulator.counts.authorizationCode;
    expectInvalidState(await send(callbackUrl, { headers: { cookie: started.cookie } }));
    expect(app.emulator.counts.authorizationCode).toBe(before);
  });

  it('refuses an expired state', async () => {
    app.emulator.setAuthorizeUser({ companyId: 203, userId: 1 });
    const started = await start(app);
    const callbackUrl = await approve(started);
    const id = createHash('sha256').update(started.state).digest('hex');
    const states = app.dataSource.getRepository(PipedriveOAuthStateEntity);
    expect(await states.findOneBy({ id })).not.toBeNull();
    await states.update({ id }, { expiresAt: Date.now() - 1_000 });
    expectInvalidState(await refusedWithoutTokenRequest(203, () => send(callbackUrl, { headers: { cookie: started.cookie } })));
  });

  it("refuses another browser's state (foreign cookie, or none), without burning it for its owner", async () => {
    app.emulator.setAuthorizeUser({ companyId: 204, userId: 1 });
    const victim = await start(app);
    const attacker = await start(app);
    const callbackUrl = await approve(victim);
    expectInvalidState(await refusedWithoutTokenRequest(204, () => send(callbackUrl, { headers: { cookie: attacker.cookie } })));
    expectInvalidState(await refusedWithoutTokenRequest(204, () => send(callbackUrl)));
    expect((await send(callbackUrl, { headers: { cookie: victim.cookie } })).status).toBe(200);
  });

  it('refuses a callback without state while requireState is on', async () => {
    app.emulator.setAuthorizeUser({ companyId: 205, userId: 1 });
    const started = await start(app);
    const callbackUrl = withState(await approve(started), null);
    expectInvalidState(await refusedWithoutTokenRequest(205, () => send(callbackUrl, { headers: { cookie: started.cookie } })));
  });

  it('answers a denial with 403 user_denied and no token request', async () => {
    app.emulator.setAuthorizeUser({ companyId: 206, userId: 1 });
    app.emulator.setAuthorizeDecision('deny');
    try {
      const started = await start(app);
      const callbackUrl = await approve(started);
      expect(new URL(callbackUrl).searchParams.get('error')).toBe('user_denied');
      const answer = await refusedWithoutTokenRequest(206, () => send(callbackUrl, { headers: { cookie: started.cookie } }));
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ statusCode: 403, error: 'user_denied' });
    } finally {
      app.emulator.setAuthorizeDecision('approve');
    }
  });

  it.each([
    ['garbage', 502, 'token_exchange_failed'],
    [503, 502, 'token_exchange_failed'],
    ['reset', 502, 'token_exchange_failed'],
    ['invalid_grant', 400, 'invalid_grant'],
  ] as const)('stores nothing when the token endpoint answers %s (-> %i %s)', async (fault, status, code) => {
    const companyId = 300 + ['garbage', 503, 'reset', 'invalid_grant'].indexOf(fault);
    app.emulator.setAuthorizeUser({ companyId, userId: 1 });
    const started = await start(app);
    const callbackUrl = await approve(started);
    app.emulator.failNextToken(1, fault);
    const before = app.emulator.counts.authorizationCode;
    const answer = await send(callbackUrl, { headers: { cookie: started.cookie } });
    expect(app.emulator.counts.authorizationCode).toBe(before + 1);
    expect(answer.status).toBe(status);
    expect(answer.json).toMatchObject({ statusCode: status, error: code });
    expect(setCookieLine(answer, SESSION_COOKIE)).toBeUndefined();
    expect(await connectionsOf(app, companyId)).toHaveLength(0);
  });

  it('stores nothing when Pipedrive cannot say who authorized (users/me fails)', async () => {
    app.emulator.setAuthorizeUser({ companyId: 310, userId: 1 });
    const started = await start(app);
    const callbackUrl = await approve(started);
    app.emulator.failNextApi(1, 500);
    const answer = await send(callbackUrl, { headers: { cookie: started.cookie } });
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ statusCode: 502, error: 'pipedrive_api_error', pipedrive: { status: 500 } });
    expect(setCookieLine(answer, SESSION_COOKIE)).toBeUndefined();
    expect(await connectionsOf(app, 310)).toHaveLength(0);
  });

  it('re-authorizing the same user updates its row (and revives a revoked one)', async () => {
    const first = await connectAs(app, 400, 1);
    const [row] = await connectionsOf(app, 400, 1);
    await send(`${app.url}/auth/pipedrive/disconnect`, { method: 'POST', headers: { cookie: first.session } });
    expect((await connectionsOf(app, 400, 1))[0]!.status).toBe('revoked');
    const again = await connectAs(app, 400, 1);
    expect(again.answer.json.status).toBe('active');
    const rows = await connectionsOf(app, 400, 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: row!.id, status: 'active' });
    expect(rows[0]!.updatedAt).toBeGreaterThanOrEqual(row!.updatedAt);
    expect((await send(`${app.url}/pipedrive/me`, { headers: { cookie: again.session } })).status).toBe(200);
  });

  it('keeps two companies apart', async () => {
    app.emulator.seed(501, { deals: 3 });
    app.emulator.seed(502, { deals: 5 });
    const a = await connectAs(app, 501, 1);
    const b = await connectAs(app, 502, 1);
    const get = async (path: string, session: string) => (await send(`${app.url}${path}`, { headers: { cookie: session } })).json;
    expect(await get('/pipedrive/deals', a.session)).toHaveLength(3);
    expect(await get('/pipedrive/deals', b.session)).toHaveLength(5);
    expect((await get('/pipedrive/me', b.session)).company_id).toBe(502);
  });

  describe('with requireState off (Marketplace installs without state)', () => {
    let lenient: ReferenceApp;
    // Same database, its own emulator (its client's redirect_uri differs from the main app's).
    beforeAll(async () => {
      lenient = await startReferenceApp({ databaseUrl, env: { PIPEDRIVE_REQUIRE_STATE: 'false' } });
    });
    afterAll(() => lenient?.close());

    /** A code from an authorize call without state, as a Marketplace install sends it. */
    async function stateless(companyId: number): Promise<string> {
      lenient.emulator.setAuthorizeUser({ companyId, userId: 1 });
      const authorize = new URL('/oauth/authorize', lenient.emulator.url);
      authorize.searchParams.set('client_id', TEST_CLIENT.clientId);
      authorize.searchParams.set('redirect_uri', `${lenient.url}/auth/pipedrive/callback`);
      const answer = await request(authorize);
      await answer.body.dump();
      return String(answer.headers.location);
    }

    it('accepts a callback with no state at all', async () => {
      const callbackUrl = await stateless(800);
      expect(new URL(callbackUrl).searchParams.has('state')).toBe(false);
      const answer = await send(callbackUrl);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ companyId: 800, status: 'active' });
    });

    it('still verifies a state that is present', async () => {
      const callbackUrl = await stateless(801);
      const before = lenient.emulator.counts.authorizationCode;
      expectInvalidState(await send(withState(callbackUrl, randomBytes(32).toString('base64url'))));
      expect(lenient.emulator.counts.authorizationCode).toBe(before);
    });
  });

  it('never sent a token in any response body or header', () => expectNoTokensSeen());
});
