import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ManualClock, PipedriveEmulator, PipedriveEmulatorError } from './index.js';

const CLIENT = { clientId: 'app-1', clientSecret: 'secret-1', redirectUri: 'http://localhost:3000/cb' };

describe('PipedriveEmulator lifecycle', () => {
  it('listens on 127.0.0.1 with a free port by default', async () => {
    const emu = await PipedriveEmulator.start();
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await emu.close();
  });

  it('close() ends keep-alive sockets and drops answers held by latency', async () => {
    const clock = new ManualClock();
    const emu = await PipedriveEmulator.start({ apps: [CLIENT], clock });
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    const auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).accessToken}`;
    const first = await request(`${emu.url}/api/v1/users/me`, { dispatcher: agent, headers: { authorization: auth } });
    await first.body.dump();
    emu.setLatency({ apiMs: 30_000 });
    const held = request(`${emu.url}/api/v1/users/me`, { dispatcher: agent, headers: { authorization: auth } });
    while (clock.pendingSleeps === 0) await new Promise((resolve) => setImmediate(resolve));
    await emu.close();
    await expect(held).rejects.toThrow();
    await agent.close();
  });

  it('issues distinct tokens for 10,000 grants', async () => {
    const emu = await PipedriveEmulator.start({ apps: [CLIENT] });
    const tokens = new Set<string>();
    for (let i = 0; i < 10_000; i++) tokens.add(emu.grant({ clientId: CLIENT.clientId, companyId: 1 + (i % 100), userId: i }).accessToken);
    expect(tokens.size).toBe(10_000);
    await emu.close();
  });

  it('grant() returns the library token-set shape', async () => {
    const emu = await PipedriveEmulator.start({ apps: [{ ...CLIENT, scope: 'base,deals:read' }] });
    const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 3, userId: 4, expiresInSeconds: 60 });
    expect(tokens).toEqual({
      accessToken: expect.stringMatching(/^v1u:/),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 60,
      scopes: ['base', 'deals:read'],
      apiDomain: emu.url,
    });
    await emu.close();
  });

  it('reset() clears faults, counters, records and switches but keeps apps, tokens and data', async () => {
    const emu = await PipedriveEmulator.start({ apps: [CLIENT], rateLimit: { limit: 2, windowMs: 2000 } });
    const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 });
    emu.seed(1, { deals: 2 });
    const me = async () => {
      const res = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      await res.body.dump();
      return res.statusCode;
    };
    expect([await me(), await me(), await me()]).toEqual([200, 200, 429]);
    emu.failNextApi(5, 503);
    emu.setRateLimit({ limit: 1, windowMs: 1000 });
    emu.setAuthorizeUser({ companyId: 9, userId: 9 });
    emu.setAuthorizeDecision('deny');
    emu.setApiDomain(1, 'http://elsewhere.example');
    emu.setRefreshTokenRotation(true);
    emu.reset();
    expect(emu.counts).toEqual({ authorizationCode: 0, refreshToken: 0, revoke: 0, api: 0, rateLimited: 0, tokenErrors: 0 });
    expect(emu.requests).toEqual([]);
    expect([await me(), await me(), await me()]).toEqual([200, 200, 429]);
    expect(emu.authorizeUser).toEqual({ companyId: 1, userId: 1 });
    expect(emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).apiDomain).toBe(emu.url);
    expect(emu.records(1, 'deals')).toHaveLength(2);
    const authorize = await request(
      `${emu.url}/oauth/authorize?${new URLSearchParams({ client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUri })}`,
    );
    expect(String(authorize.headers.location)).toContain('code=');
    await authorize.body.dump();
    await emu.close();
  });

  it('counts and requests are snapshots, not handles into the emulator', async () => {
    const emu = await PipedriveEmulator.start();
    const counts = emu.counts as { api: number };
    counts.api = 99;
    expect(emu.counts.api).toBe(0);
    await emu.close();
  });

  it('refuses grants for unknown apps with a clear error', async () => {
    const emu = await PipedriveEmulator.start();
    expect(() => emu.grant({ clientId: 'nobody', companyId: 1, userId: 1 })).toThrow(PipedriveEmulatorError);
    await emu.close();
  });

  it('uninstall() kills the tokens and sends the DELETE to the callback with Basic auth', async () => {
    const seen: Array<{ req: IncomingMessage; body: string }> = [];
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ req, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/auth/pipedrive/callback`;
    const emu = await PipedriveEmulator.start({ apps: [{ ...CLIENT, redirectUri }] });
    const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 4, userId: 9 });
    expect(await emu.uninstall({ clientId: CLIENT.clientId, companyId: 4, userId: 9 })).toBe(200);
    expect(seen[0]!.req.method).toBe('DELETE');
    expect(seen[0]!.req.url).toBe('/auth/pipedrive/callback');
    expect(seen[0]!.req.headers.authorization).toBe(`Basic ${Buffer.from('app-1:secret-1').toString('base64')}`);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ client_id: 'app-1', company_id: 4, user_id: 9 });
    const me = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.statusCode).toBe(401);
    await me.body.dump();
    await emu.close();
    await new Promise((resolve) => app.close(resolve));
  });
});
