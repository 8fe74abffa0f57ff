import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, PipedriveEmulator } from '../index.js';

const CLIENT = { clientId: 'app-1', clientSecret: 'secret-1', redirectUri: 'http://localhost:3000/auth/pipedrive/callback' };
const BASIC = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

describe('PipedriveEmulator OAuth', () => {
  let emu: PipedriveEmulator;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    emu = await PipedriveEmulator.start({ apps: [CLIENT], clock });
  });
  afterEach(() => emu.close());

  const authorize = (params: Record<string, string>) => request(`${emu.url}/oauth/authorize?${new URLSearchParams(params)}`);
  const token = (params: Record<string, string>, headers: Record<string, string> = { authorization: BASIC, 'content-type': FORM }) =>
    request(`${emu.url}/oauth/token`, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  const newCode = async (state = 's1') => {
    const res = await authorize({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri, state });
    await res.body.dump();
    return new URL(String(res.headers.location)).searchParams.get('code')!;
  };
  const exchange = (code: string, redirectUri = CLIENT.redirectUri) =>
    token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  const json = async (res: Awaited<ReturnType<typeof request>>) => (await res.body.json()) as Record<string, unknown>;

  describe('authorize', () => {
    it('redirects 302 to the callback with a code and the state when the user approves', async () => {
      const res = await authorize({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri, state: 'xyz' });
      expect(res.statusCode).toBe(302);
      const location = new URL(String(res.headers.location));
      expect(`${location.origin}${location.pathname}`).toBe(CLIENT.redirectUri);
      expect(location.searchParams.get('state')).toBe('xyz');
      expect(location.searchParams.get('code')).toMatch(/.{16,}/);
    });

    it('redirects with error=user_denied and the state when the user denies', async () => {
      emu.setAuthorizeDecision('deny');
      const res = await authorize({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri, state: 'xyz' });
      const location = new URL(String(res.headers.location));
      expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'user_denied', state: 'xyz' });
    });

    it('answers 400 without redirecting for a foreign redirect_uri or an unknown client', async () => {
      const bad = await authorize({ client_id: CLIENT.clientId, redirect_uri: 'https://evil.example/cb' });
      const unknown = await authorize({ client_id: 'nobody', redirect_uri: CLIENT.redirectUri });
      for (const res of [bad, unknown]) {
        expect(res.statusCode).toBe(400);
        expect(res.headers.location).toBeUndefined();
        await res.body.dump();
      }
    });

    it('omits state when none was sent', async () => {
      const res = await authorize({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri });
      expect(new URL(String(res.headers.location)).searchParams.has('state')).toBe(false);
    });
  });

  describe('code exchange', () => {
    it('answers the documented token JSON for the approving user', async () => {
      emu.setAuthorizeUser({ companyId: 77, userId: 8, name: 'Ann', companyName: 'Acme' });
      const res = await exchange(await newCode());
      expect(res.statusCode).toBe(200);
      const body = await json(res);
      expect(body).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.any(String),
        token_type: 'Bearer',
        scope: expect.stringContaining('base'),
        expires_in: 3599,
        api_domain: emu.url,
      });
      const me = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
      expect((await json(me)).data).toMatchObject({ id: 8, name: 'Ann', company_id: 77, company_name: 'Acme' });
    });

    it('accepts a code once only', async () => {
      const code = await newCode();
      expect((await exchange(code)).statusCode).toBe(200);
      const again = await exchange(code);
      expect(again.statusCode).toBe(400);
      expect(await json(again)).toEqual({ success: false, message: expect.stringContaining('Invalid grant'), error: 'invalid_grant' });
    });

    it('refuses a code after codeTtlSeconds (300 s)', async () => {
      const code = await newCode();
      await clock.advance(301_000);
      const res = await exchange(code);
      expect(res.statusCode).toBe(400);
      expect((await json(res)).error).toBe('invalid_grant');
    });

    it('refuses a redirect_uri other than the one used at authorize', async () => {
      const res = await exchange(await newCode(), 'http://localhost:3000/other');
      expect(res.statusCode).toBe(400);
      expect((await json(res)).error).toBe('invalid_grant');
    });

    it('requires HTTP Basic: credentials in the body only are invalid_client', async () => {
      const code = await newCode();
      const res = await token(
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: CLIENT.redirectUri,
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
        },
        { 'content-type': FORM },
      );
      expect(res.statusCode).toBe(400);
      expect((await json(res)).error).toBe('invalid_client');
    });

    it('refuses a wrong client secret with 400 invalid_client, as Pipedrive does', async () => {
      const wrong = `Basic ${Buffer.from(`${CLIENT.clientId}:nope`).toString('base64')}`;
      const res = await token(
        { grant_type: 'authorization_code', code: await newCode(), redirect_uri: CLIENT.redirectUri },
        { authorization: wrong, 'content-type': FORM },
      );
      expect(res.statusCode).toBe(400);
      expect(await json(res)).toMatchObject({ success: false, error: 'invalid_client' });
    });

    it('refuses a JSON body with 400 invalid_request', async () => {
      const code = await newCode();
      const res = await request(`${emu.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: BASIC, 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirectUri }),
      });
      expect(res.statusCode).toBe(400);
      expect((await json(res)).error).toBe('invalid_request');
    });
  });

  describe('refresh', () => {
    it('returns a new access token and the same refresh token, with the current api_domain', async () => {
      const first = await json(await exchange(await newCode()));
      emu.setApiDomain(1, 'https://moved.example.com');
      const res = await token({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token) });
      const second = await json(res);
      expect(res.statusCode).toBe(200);
      expect(second.refresh_token).toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(second.api_domain).toBe('https://moved.example.com');
    });

    it('rotates the refresh token when told to: a new one per refresh, the used one retired', async () => {
      emu.setRefreshTokenRotation(true);
      const first = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      const second = await json(await token({ grant_type: 'refresh_token', refresh_token: first.refreshToken }));
      emu.setRefreshTokenRotation(false);
      expect(second.refresh_token).not.toBe(first.refreshToken);
      expect((await token({ grant_type: 'refresh_token', refresh_token: first.refreshToken })).statusCode).toBe(400);
      expect((await token({ grant_type: 'refresh_token', refresh_token: String(second.refresh_token) })).statusCode).toBe(200);
    });

    it('answers invalid_grant in Pipedrive shape for an unknown refresh token', async () => {
      const res = await token({ grant_type: 'refresh_token', refresh_token: 'nope' });
      expect(res.statusCode).toBe(400);
      expect(await json(res)).toEqual({ success: false, message: 'Invalid grant: refresh token is invalid', error: 'invalid_grant' });
    });

    it('extends the refresh window on use and expires it after 60 days unused', async () => {
      const { refreshToken: refresh_token } = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      await clock.advance(59 * 86_400_000);
      expect((await token({ grant_type: 'refresh_token', refresh_token })).statusCode).toBe(200);
      await clock.advance(59 * 86_400_000);
      expect((await token({ grant_type: 'refresh_token', refresh_token })).statusCode).toBe(200);
      await clock.advance(61 * 86_400_000);
      expect((await token({ grant_type: 'refresh_token', refresh_token })).statusCode).toBe(400);
    });

    it('refuses refresh tokens after revokeRefreshTokens(companyId) but only for that company', async () => {
      const a = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      const b = emu.grant({ clientId: CLIENT.clientId, companyId: 2, userId: 1 });
      emu.revokeRefreshTokens(1);
      expect((await token({ grant_type: 'refresh_token', refresh_token: a.refreshToken })).statusCode).toBe(400);
      expect((await token({ grant_type: 'refresh_token', refresh_token: b.refreshToken })).statusCode).toBe(200);
    });
  });

  describe('revoke', () => {
    const revoke = (tokenValue: string, hint = 'refresh_token') =>
      request(`${emu.url}/oauth/revoke`, {
        method: 'POST',
        headers: { authorization: BASIC, 'content-type': FORM },
        body: new URLSearchParams({ token: tokenValue, token_type_hint: hint }).toString(),
      });

    it('kills the refresh token and its access tokens (an uninstall)', async () => {
      const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      const res = await revoke(tokens.refreshToken);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      const me = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(me.statusCode).toBe(401);
      await me.body.dump();
      expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken })).statusCode).toBe(400);
      expect(emu.counts.revoke).toBe(1);
    });

    it('failNextRevoke fails the next revoke and leaves the token alive', async () => {
      const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      emu.failNextRevoke(1, 503);
      const failed = await revoke(tokens.refreshToken);
      expect(failed.statusCode).toBe(503);
      await failed.body.dump();
      expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken })).statusCode).toBe(200);
      expect(emu.counts.revoke).toBe(1);
    });

    it('requires HTTP Basic (400 invalid_client without it)', async () => {
      const res = await request(`${emu.url}/oauth/revoke`, { method: 'POST', headers: { 'content-type': FORM }, body: 'token=x' });
      expect(res.statusCode).toBe(400);
      await res.body.dump();
    });
  });

  describe('faults and counters', () => {
    it('failNextToken: status, invalid_grant, garbage and reset, then normal again', async () => {
      const { refreshToken: refresh_token } = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      const refresh = () => token({ grant_type: 'refresh_token', refresh_token });
      emu.failNextToken(1, 503);
      emu.failNextToken(1, 'invalid_grant');
      emu.failNextToken(1, 'garbage');
      emu.failNextToken(1, 'reset');
      const failed = await refresh();
      expect(failed.statusCode).toBe(503);
      await failed.body.dump();
      const invalid = await refresh();
      expect((await json(invalid)).error).toBe('invalid_grant');
      const garbage = await refresh();
      expect(garbage.statusCode).toBe(200);
      await expect(garbage.body.json()).rejects.toThrow();
      await expect(refresh()).rejects.toThrow();
      expect((await refresh()).statusCode).toBe(200);
      expect(emu.counts).toMatchObject({ refreshToken: 5, tokenErrors: 4 });
    });

    it('failNextToken with a grant filter leaves other grants alone', async () => {
      emu.failNextToken(1, 500, { grant: 'refresh_token' });
      expect((await exchange(await newCode())).statusCode).toBe(200);
      const { refreshToken: refresh_token } = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      expect((await token({ grant_type: 'refresh_token', refresh_token })).statusCode).toBe(500);
    });

    it('counts concurrent refreshes on receipt, while token latency still holds the answers', async () => {
      const { refreshToken: refresh_token } = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
      emu.setLatency({ tokenMs: 300 });
      const pending = Array.from({ length: 5 }, () => token({ grant_type: 'refresh_token', refresh_token }));
      await waitUntil(() => clock.pendingSleeps === 5);
      expect(emu.counts.refreshToken).toBe(5);
      expect(emu.requests.filter((r) => r.path === '/oauth/token').every((r) => r.status === 0)).toBe(true);
      await clock.advance(299);
      expect(clock.pendingSleeps).toBe(5);
      await clock.advance(1);
      const answers = await Promise.all(pending);
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(emu.counts).toMatchObject({ refreshToken: 5, authorizationCode: 0, tokenErrors: 0 });
    });

    it('never records token values and resetCounts clears counters and log', async () => {
      const body = await json(await exchange(await newCode()));
      const logged = JSON.stringify(emu.requests);
      expect(logged).not.toContain(String(body.access_token));
      expect(logged).not.toContain(String(body.refresh_token));
      expect(emu.requests.find((r) => r.path === '/oauth/authorize')!.query.client_id).toBe(CLIENT.clientId);
      expect(emu.counts.authorizationCode).toBe(1);
      emu.resetCounts();
      expect(emu.counts).toEqual({ authorizationCode: 0, refreshToken: 0, revoke: 0, api: 0, rateLimited: 0, tokenErrors: 0 });
      expect(emu.requests).toEqual([]);
    });
  });
});

/** Waits for a condition the server reaches on its own (real sockets), never for a fixed time. */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
