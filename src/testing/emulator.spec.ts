import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { PipedriveEmulator, PipedriveEmulatorError } from './index.js';

const CLIENT = { clientId: 'app-1', clientSecret: 'secret-1', redirectUri: 'http://localhost:3000/cb' };

describe('PipedriveEmulator lifecycle', () => {
  it('listens on 127.0.0.1 with a free port by default', async () => {
    const emu = await PipedriveEmulator.start();
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await emu.close();
  });

  it('close() ends keep-alive sockets and answers held by latency at once', async () => {
    const emu = await PipedriveEmulator.start({ clients: [CLIENT] });
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    const auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).access_token}`;
    const first = await request(`${emu.url}/api/v1/users/me`, { dispatcher: agent, headers: { authorization: auth } });
    await first.body.dump();
    emu.faults.apiLatencyMs = 30_000;
    const held = request(`${emu.url}/api/v1/users/me`, { dispatcher: agent, headers: { authorization: auth } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await emu.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(held).rejects.toThrow();
    await agent.close();
  });

  it('issues 10,000 grants quickly', async () => {
    const emu = await PipedriveEmulator.start({ clients: [CLIENT] });
    const started = performance.now();
    const tokens = new Set<string>();
    for (let i = 0; i < 10_000; i++) tokens.add(emu.grant({ clientId: CLIENT.clientId, companyId: 1 + (i % 100), userId: i }).access_token);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(tokens.size).toBe(10_000);
    await emu.close();
  });

  it('refuses grants for unknown clients with a clear error', async () => {
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
    const emu = await PipedriveEmulator.start({ clients: [{ ...CLIENT, redirectUri }] });
    const tokens = emu.grant({ clientId: CLIENT.clientId, companyId: 4, userId: 9 });
    expect(await emu.uninstall({ clientId: CLIENT.clientId, companyId: 4, userId: 9 })).toBe(200);
    expect(seen[0]!.req.method).toBe('DELETE');
    expect(seen[0]!.req.url).toBe('/auth/pipedrive/callback');
    expect(seen[0]!.req.headers.authorization).toBe(`Basic ${Buffer.from('app-1:secret-1').toString('base64')}`);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ client_id: 'app-1', company_id: 4, user_id: 9 });
    const me = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.statusCode).toBe(401);
    await me.body.dump();
    await emu.close();
    await new Promise((resolve) => app.close(resolve));
  });
});
