import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Controller, Logger, Post, UseGuards } from '@nestjs/common';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PipedriveSameOriginGuard } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { type AuthTestApp, startAuthTestApp } from './support/auth-test-app.js';
import { connectAs, connectionsOf, cookiesOf, send, SESSION_COOKIE } from './support/browser-flow.js';
import { createPostgresDatabase, type TestDatabase } from './support/postgres.js';
import { type ReferenceApp, startReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/** Issue 8's security review, replayed as an attacker would against running apps. */

const json = { 'content-type': 'application/json' };
const DEAL = JSON.stringify({ title: 'From the test' });

/** The OAuth dance against an AuthTestApp, as a browser: start, approve at the emulator, callback. */
async function authTestConnect(app: AuthTestApp, companyId: number) {
  app.emulator.setAuthorizeUser({ companyId, userId: 1 });
  const start = await request(`${app.url}/auth/pipedrive`);
  await start.body.dump();
  const cookie = Object.entries(cookiesOf(start.headers))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  const approve = await request(String(start.headers.location));
  await approve.body.dump();
  const answer = await send(String(approve.headers.location), { headers: { cookie } });
  return { start, answer };
}

describe('the reference app on SQLite', () => {
  let dir: string;
  let app: ReferenceApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-security-'));
    app = await startReferenceApp({ databaseUrl: `sqlite:${join(dir, 'app.sqlite')}` });
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('cross-site requests', () => {
    it.each([
      ['another site', { origin: 'https://evil.example' }],
      ['an opaque origin (Origin: null)', { origin: 'null' }],
      ['another port of the same host', { origin: 'http://127.0.0.1:1' }],
      ['another scheme', { origin: 'https://127.0.0.1' }],
      ['a browser saying cross-site', { 'sec-fetch-site': 'cross-site' }],
    ])('refuses a deal creation from %s with 403, creating nothing', async (_name, headers) => {
      const { session } = await connectAs(app, 801, 1);
      const dealPosts = () => app.emulator.requests.filter((r) => r.method === 'POST' && r.path.includes('/deals')).length;
      const before = dealPosts();
      const answer = await send(`${app.url}/pipedrive/deals`, {
        method: 'POST',
        headers: { ...json, ...headers, cookie: session },
        body: DEAL,
      });
      expect(answer.status, answer.text).toBe(403);
      expect(answer.json).toMatchObject({ statusCode: 403, error: 'cross_site_request' });
      expect(dealPosts()).toBe(before);
    });

    it('refuses a cross-site disconnect, and the connection stays', async () => {
      const { session } = await connectAs(app, 802, 1);
      const answer = await send(`${app.url}/auth/pipedrive/disconnect`, {
        method: 'POST',
        headers: { cookie: session, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      });
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ error: 'cross_site_request' });
      expect((await connectionsOf(app, 802))[0]).toMatchObject({ status: 'active' });
      expect((await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } })).status).toBe(200);
    });

    it('serves its own origin, same-origin browsers and requests without either header (curl, servers)', async () => {
      const { session } = await connectAs(app, 803, 1);
      const cases: Record<string, string>[] = [{}, { origin: app.url, 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }];
      for (const headers of cases) {
        const answer = await send(`${app.url}/pipedrive/deals`, {
          method: 'POST',
          headers: { ...json, ...headers, cookie: session },
          body: DEAL,
        });
        expect(answer.status, answer.text).toBe(201);
      }
    });

    it('accepts deals as application/json only (415 otherwise)', async () => {
      const { session } = await connectAs(app, 804, 1);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const answer = await send(`${app.url}/pipedrive/deals`, {
          method: 'POST',
          headers: { 'content-type': type, cookie: session },
          body: DEAL,
        });
        expect(answer.status, type).toBe(415);
        expect(answer.json).toMatchObject({ error: 'unsupported_media_type' });
      }
      const charset = await send(`${app.url}/pipedrive/deals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', cookie: session },
        body: DEAL,
      });
      expect(charset.status).toBe(201);
    });
  });

  describe('cookies', () => {
    it('treats a session cookie sent twice as missing, whichever comes first', async () => {
      const { session } = await connectAs(app, 805, 1);
      const planted = `${SESSION_COOKIE}=planted-by-a-sibling-domain`;
      for (const cookie of [`${session}; ${planted}`, `${planted}; ${session}`, `${session}; ${session}`]) {
        const answer = await send(`${app.url}/pipedrive/me`, { headers: { cookie } });
        expect(answer.status).toBe(401);
        expect(answer.json).toMatchObject({ error: 'session_required' });
      }
      expect((await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } })).status).toBe(200);
    });
  });

  describe('response headers', () => {
    const hardened = (headers: Record<string, unknown>) => {
      expect(headers['x-powered-by']).toBeUndefined();
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['cache-control']).toBe('no-store');
    };

    it('hardens every answer: success, error, 404, the callback and connection data', async () => {
      const { answer, session } = await connectAs(app, 806, 1);
      hardened(answer.headers);
      hardened((await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } })).headers);
      hardened((await send(`${app.url}/pipedrive/me`)).headers);
      const missing = await send(`${app.url}/no/such/page`);
      expect(missing.status).toBe(404);
      hardened(missing.headers);
      const health = await send(`${app.url}/health`);
      hardened(health.headers);
    });
  });

  describe('what Pipedrive sends back', () => {
    it('reflects Pipedrive error text bounded, in a safe charset, without tokens; a forged request id not at all', async () => {
      const { session } = await connectAs(app, 807, 1);
      const tokenLike = `v1u:${'A'.repeat(60)}`;
      app.emulator.failNextApi(1, 400, {
        body: { success: false, error: `<script>alert(1)</script>\u0007 ${tokenLike} ${'long '.repeat(500)}`, error_info: '<img src=x>' },
        headers: { 'x-request-id': '<b>not an id</b>' },
      });
      const answer = await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } });
      expect(answer.status).toBe(502);
      const reflected = answer.json.pipedrive;
      expect(reflected.error.length).toBeLessThanOrEqual(200);
      // eslint-disable-next-line no-control-regex -- control characters are what must not come back
      expect(JSON.stringify(answer.json)).not.toMatch(/[<>\u0000-\u001f]/);
      expect(answer.text).not.toContain(tokenLike);
      expect(reflected.requestId).toBeUndefined();

      app.emulator.failNextApi(1, 400, { headers: { 'x-request-id': 'req-0a1b2c3d' } });
      const plain = await send(`${app.url}/pipedrive/me`, { headers: { cookie: session } });
      expect(plain.json.pipedrive.requestId).toBe('req-0a1b2c3d');
    });
  });
});

describe('a token this instance cannot decrypt', () => {
  let dir: string;
  let second: ReferenceApp | undefined;
  let emulator: ReferenceApp['emulator'] | undefined;
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await second?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one error naming the key fingerprint, and the browser gets a plain 401', async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-security-key-'));
    const databaseUrl = `sqlite:${join(dir, 'app.sqlite')}`;
    const SESSION_SECRET = randomBytes(32).toString('hex');
    const first = await startReferenceApp({ databaseUrl, env: { SESSION_SECRET } });
    const { session } = await connectAs(first, 811, 1);
    const writtenWith = String((await connectionsOf(first, 811))[0]!.accessToken).split('.')[1];
    emulator = first.emulator;
    await first.app.close();
    // Same database and session secret, another encryption key and no previous key: the row is unreadable here.
    second = await startReferenceApp({ databaseUrl, emulator, env: { SESSION_SECRET } });
    const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    for (let i = 0; i < 3; i++) {
      const answer = await send(`${second.url}/pipedrive/me`, { headers: { cookie: session } });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({
        statusCode: 401,
        error: 'reauthorization_required',
        message: expect.any(String),
      });
      expect(answer.text).not.toMatch(/undecrypt|key|cipher/i);
    }
    const lines = errors.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('cannot be decrypted'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(writtenWith);
  });
});

describe('PipedriveAuthModule settings an attacker would probe', () => {
  let app: AuthTestApp;
  let attacker: Server;
  let attackerHits = 0;
  let attackerUrl: string;

  @Controller('app')
  @UseGuards(PipedriveSameOriginGuard)
  class AppOwnController {
    @Post('settings')
    save() {
      return { saved: true };
    }
  }

  beforeAll(async () => {
    attacker = createServer((_request, response) => {
      attackerHits++;
      response.end('{}');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    app = await startAuthTestApp({
      options: { secureCookies: true, successRedirect: '/welcome' },
      controllers: [AppOwnController],
    });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  it('names Secure cookies with the __Host- prefix, and the callback redirect is no-store', async () => {
    const { start, answer } = await authTestConnect(app, 821);
    const stateLine = ([] as string[]).concat(start.headers['set-cookie'] ?? [])[0]!;
    expect(stateLine).toMatch(/^__Host-pipedrive_session_state=.*; Path=\/;.*Secure/);
    expect(answer.status).toBe(302);
    expect(answer.headers['cache-control']).toBe('no-store');
    const sessionLine = ([] as string[])
      .concat(answer.headers['set-cookie'] ?? [])
      .find((line) => line.startsWith('__Host-pipedrive_session='));
    expect(sessionLine).toMatch(/Secure/);
    expect(sessionLine).not.toMatch(/Domain=/i);
  });

  it('offers the cross-site check as a guard for the app’s own routes', async () => {
    const post = (headers: Record<string, string>) => send(`${app.url}/app/settings`, { method: 'POST', headers });
    expect((await post({ origin: 'https://evil.example' })).json).toMatchObject({ statusCode: 403, error: 'cross_site_request' });
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ origin: app.url })).status).toBe(201);
    expect((await post({})).status).toBe(201);
  });

  it('refuses an api_domain it does not trust: the flow fails with a reason, nothing is stored, no token goes there', async () => {
    app.emulator.setApiDomain(822, attackerUrl);
    const { answer } = await authTestConnect(app, 822);
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ error: 'token_exchange_failed', message: expect.stringMatching(/api_domain/) });
    expect(attackerHits).toBe(0);
    const rows = await app.dataSource.query('SELECT id FROM pipedrive_connections WHERE company_id = 822');
    expect(rows).toHaveLength(0);
  });

  it('does not follow a refresh answer to an untrusted api_domain', async () => {
    app.emulator.setApiDomain(823, app.emulator.url);
    await authTestConnect(app, 823);
    const [{ id }] = await app.dataSource.query('SELECT id FROM pipedrive_connections WHERE company_id = 823');
    app.emulator.setApiDomain(823, attackerUrl);
    const { TokenService } = await import('../src/index.js');
    const tokens = app.app.get(TokenService);
    const current = await tokens.getAccessToken(id);
    await expect(tokens.getAccessToken(id, { rejectedToken: current.accessToken })).rejects.toThrow(/api_domain/);
    expect(attackerHits).toBe(0);
    const [row] = await app.dataSource.query('SELECT api_domain FROM pipedrive_connections WHERE id = ?', [id]);
    expect(row.api_domain).toBe(app.emulator.url);
  });
});

describe('sessions die with their connection, on every instance (two instances, PostgreSQL)', () => {
  let database: TestDatabase;
  let a: ReferenceApp;
  let b: ReferenceApp;
  const clockA = new ManualClock(Date.now());
  const clockB = new ManualClock(Date.now());
  const RECHECK_MS = 30_000;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const shared = {
      PIPEDRIVE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startReferenceApp({ databaseUrl: database.url, env: shared, clock: clockA });
    b = await startReferenceApp({
      databaseUrl: database.url,
      emulator: a.emulator,
      env: shared,
      redirectUri: `${a.url}/auth/pipedrive/callback`,
      clock: clockB,
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database?.drop();
  });

  const me = (instance: ReferenceApp, cookie: string) => send(`${instance.url}/pipedrive/me`, { headers: { cookie } });

  it('after a disconnect: 401 at once on the instance that did it, within the recheck interval on the other, and after the user connects again', async () => {
    const { session } = await connectAs(a, 831, 1);
    expect((await me(b, session)).status).toBe(200);
    const disconnect = await send(`${a.url}/auth/pipedrive/disconnect`, { method: 'POST', headers: { cookie: session } });
    expect(disconnect.status).toBe(200);
    expect((await me(a, session)).status).toBe(401);

    await clockB.advance(RECHECK_MS);
    expect((await me(b, session)).json).toMatchObject({ statusCode: 401, error: 'reauthorization_required' });

    const again = await connectAs(a, 831, 1);
    // B still holds "revoked" (also a 401) until its recheck; then it sees the new authorization's epoch.
    expect((await me(b, session)).status).toBe(401);
    await clockB.advance(RECHECK_MS);
    for (const instance of [a, b]) {
      expect((await me(instance, session)).json, `the cookie copied before the disconnect, on ${instance.url}`).toMatchObject({
        statusCode: 401,
        error: 'session_ended',
      });
      expect((await me(instance, again.session)).status).toBe(200);
    }
  });

  it('after an uninstall: 401 on the other instance within the recheck interval', async () => {
    const { session } = await connectAs(a, 832, 1);
    expect((await me(b, session)).status).toBe(200);
    expect(await a.emulator.uninstall({ clientId: TEST_CLIENT.clientId, companyId: 832, userId: 1 })).toBe(200);
    expect((await me(a, session)).status).toBe(401);
    await clockB.advance(RECHECK_MS);
    // Refused by B itself, from the row: not by Pipedrive after B tried the dead token.
    const apiCalls = () => a.emulator.requests.filter((r) => r.auth === 'bearer').length;
    const before = apiCalls();
    expect((await me(b, session)).json).toMatchObject({ statusCode: 401, error: 'reauthorization_required' });
    expect(apiCalls()).toBe(before);
  });

  it('after a re-authorization: sessions issued before it end on both instances', async () => {
    const first = await connectAs(a, 833, 1);
    expect((await me(b, first.session)).status).toBe(200);
    // The callback URL is A's: A completes the second authorization.
    const second = await connectAs(a, 833, 1);
    expect((await me(a, first.session)).json).toMatchObject({ error: 'session_ended' });
    await clockB.advance(RECHECK_MS);
    expect((await me(b, first.session)).json).toMatchObject({ error: 'session_ended' });
    expect((await me(b, second.session)).status).toBe(200);
  });
});
