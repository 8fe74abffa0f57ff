import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PipedriveTokenEndpointError } from '../errors/pipedrive.errors.js';
import { PipedriveEmulator } from '../testing/index.js';
import { PipedriveOAuthClient } from './pipedrive-oauth.client.js';
import { resolvePipedriveOptions } from '../pipedrive-auth.options.js';
import { tokenTestOptions } from '../../test/support/token-fixture.js';

const CLIENT = { clientId: 'oauth-spec', clientSecret: 'oauth-spec-secret', redirectUri: 'http://127.0.0.1/cb' };
const USER = { clientId: CLIENT.clientId, companyId: 11, userId: 22 };

let emu: PipedriveEmulator;
let client: PipedriveOAuthClient;
const clients: PipedriveOAuthClient[] = [];

function oauthClient(overrides: Parameters<typeof tokenTestOptions>[0] = {}): PipedriveOAuthClient {
  const created = new PipedriveOAuthClient(resolvePipedriveOptions(tokenTestOptions({ ...CLIENT, oauthBaseUrl: emu.url, ...overrides })));
  clients.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<PipedriveTokenEndpointError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipedriveTokenEndpointError);
  return error as PipedriveTokenEndpointError;
}

beforeAll(async () => {
  emu = await PipedriveEmulator.start({ apps: [CLIENT] });
  client = oauthClient();
});
afterEach(() => {
  emu.setLatency({ tokenMs: 0 });
});
afterAll(async () => {
  for (const c of clients) await c.onModuleDestroy();
  await emu.close();
});

describe('PipedriveOAuthClient', () => {
  it('exchanges a code with a form body and HTTP Basic', async () => {
    emu.setAuthorizeUser({ companyId: 11, userId: 22 });
    const authorize = new URL('/oauth/authorize', emu.url);
    authorize.search = new URLSearchParams({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri }).toString();
    const redirect = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const tokens = await client.exchangeCode(code);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 3599, apiDomain: emu.url });
    expect(tokens.scopes).toContain('base');
    expect(tokens.accessToken).not.toBe(tokens.refreshToken);
    const seen = emu.requests.filter((r) => r.path === '/oauth/token').at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', auth: 'basic', status: 200 });
    expect(seen.contentType).toContain('application/x-www-form-urlencoded');
    // Codes are single-use.
    const again = await failure(client.exchangeCode(code));
    expect(again.details).toMatchObject({ grant: 'authorization_code', status: 400, oauthError: 'invalid_grant', transient: false });
  });

  it('refreshes: new access token, same refresh token, current api_domain', async () => {
    const grant = emu.grant(USER);
    emu.setApiDomain(11, 'http://127.0.0.1:1/moved');
    const tokens = await client.refresh(grant.refreshToken);
    expect(tokens.accessToken).not.toBe(grant.accessToken);
    expect(tokens.refreshToken).toBe(grant.refreshToken);
    expect(tokens.apiDomain).toBe('http://127.0.0.1:1/moved');
    emu.setApiDomain(11, emu.url);
  });

  it('maps invalid_grant to a permanent error that names no token', async () => {
    const grant = emu.grant(USER);
    emu.revokeRefreshTokens(11);
    const error = await failure(client.refresh(grant.refreshToken));
    expect(error.details).toMatchObject({ grant: 'refresh_token', status: 400, oauthError: 'invalid_grant', transient: false });
    expect(error.message).not.toContain(grant.refreshToken);
    expect(JSON.stringify(error)).not.toContain(grant.refreshToken);
    expect(error.message).not.toContain(CLIENT.clientSecret);
  });

  it('maps a wrong client secret to invalid_client, not transient', async () => {
    const grant = emu.grant(USER);
    const error = await failure(oauthClient({ clientSecret: 'wrong' }).refresh(grant.refreshToken));
    expect(error.details).toMatchObject({ status: 400, oauthError: 'invalid_client', transient: false });
    expect(error.message).not.toContain('wrong');
  });

  it('also takes invalid_client as HTTP 401 (RFC 6749), not transient', async () => {
    const grant = emu.grant(USER);
    emu.failNextToken(1, 401);
    const error = await failure(client.refresh(grant.refreshToken));
    expect(error.details).toMatchObject({ status: 401, oauthError: 'invalid_client', transient: false });
  });

  it.each([
    [503, { status: 503, transient: true }],
    ['garbage' as const, { status: 200, transient: true }],
    ['reset' as const, { transient: true }],
  ])('treats %s as transient', async (fault, expected) => {
    const grant = emu.grant(USER);
    emu.failNextToken(1, fault);
    const error = await failure(client.refresh(grant.refreshToken));
    expect(error.details).toMatchObject({ grant: 'refresh_token', ...expected });
    expect(error.message).not.toContain(grant.refreshToken);
  });

  it('gives up after tokenRequestTimeoutMs', async () => {
    const grant = emu.grant(USER);
    // The answer would come after a minute, far past the test's own timeout: only the client's timeout can end this.
    emu.setLatency({ tokenMs: 60_000 });
    const error = await failure(oauthClient({ tokenRequestTimeoutMs: 150 }).refresh(grant.refreshToken));
    emu.setLatency({ tokenMs: 0 });
    expect(error.details.transient).toBe(true);
    expect(error.message).toMatch(/timed out/);
  });

  it('revokes a refresh token, after which it no longer refreshes', async () => {
    const grant = emu.grant(USER);
    const before = emu.counts.revoke;
    await client.revoke(grant.refreshToken, 'refresh_token');
    expect(emu.counts.revoke).toBe(before + 1);
    const error = await failure(client.refresh(grant.refreshToken));
    expect(error.details.oauthError).toBe('invalid_grant');
  });

  it('reports a failed revoke as transient', async () => {
    const grant = emu.grant(USER);
    emu.failNextRevoke(1, 500);
    const error = await failure(client.revoke(grant.refreshToken, 'refresh_token'));
    expect(error.details).toMatchObject({ grant: 'revoke', status: 500, transient: true });
  });
});
