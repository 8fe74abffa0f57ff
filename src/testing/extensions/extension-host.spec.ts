import { jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../manual-clock.js';
import { PipedriveEmulator } from '../pipedrive-emulator.js';

const CLIENT = { clientId: 'ext-client', clientSecret: 'ext-client-secret', redirectUri: 'http://127.0.0.1:1/cb' };

describe('emulator app extensions', () => {
  let emu: PipedriveEmulator;
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  beforeAll(async () => {
    emu = await PipedriveEmulator.start({ apps: [CLIENT], clock });
  });
  afterAll(() => emu.close());

  const key = (secret: string) => new TextEncoder().encode(secret);

  it('signs 5-minute HS256 tokens with the client secret, or the extension JWT secret once set', async () => {
    const token = await emu.extensions.signToken({ companyId: 3, userId: 4 });
    const { payload, protectedHeader } = await jwtVerify(token, key(CLIENT.clientSecret), { currentDate: new Date(clock.now()) });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ companyId: 3, userId: 4, iat: clock.now() / 1000, exp: clock.now() / 1000 + 300 });
    emu.extensions.setJwtSecret(CLIENT.clientId, 'extension-secret');
    const second = await emu.extensions.signToken({ companyId: 3, userId: 4 });
    await expect(jwtVerify(second, key('extension-secret'), { currentDate: new Date(clock.now()) })).resolves.toBeDefined();
    await expect(jwtVerify(second, key(CLIENT.clientSecret), { currentDate: new Date(clock.now()) })).rejects.toThrow();
    emu.extensions.setJwtSecret(CLIENT.clientId, undefined);
  });

  it('frames the app URL with the query Pipedrive sends', async () => {
    const url = new URL(
      await emu.extensions.frameUrl({ appUrl: 'https://app.example/panel?keep=1', companyId: 3, userId: 4, selectedIds: [7, 8] }, 'inst-1'),
    );
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      keep: '1',
      id: 'inst-1',
      resource: 'deal',
      view: 'details',
      userId: '4',
      companyId: '3',
      selectedIds: '7,8',
      isShared: 'false',
      theme: 'light',
    });
    expect(url.searchParams.get('token')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('serves the host page, and signs tokens only for the user a host page was opened for', async () => {
    const page = await request(emu.extensions.hostUrl({ appUrl: 'https://app.example/panel', companyId: 3, userId: 4, selectedIds: [7] }));
    expect(page.statusCode).toBe(200);
    const html = await page.body.text();
    const session = /"session":"([\w-]+)"/.exec(html)![1];
    const signed = await request(`${emu.url}/app-extensions/token?session=${session}`, { method: 'POST' });
    const { token } = (await signed.body.json()) as { token: string };
    const { payload } = await jwtVerify(token, key(CLIENT.clientSecret), { currentDate: new Date(clock.now()) });
    expect(payload).toMatchObject({ companyId: 3, userId: 4 });
    const forged = await request(`${emu.url}/app-extensions/token?session=guess`, { method: 'POST' });
    expect(forged.statusCode).toBe(401);
    await forged.body.dump();
  });

  it('answers a host page request without an app URL or user with 400', async () => {
    for (const query of ['', '?appUrl=javascript:alert(1)&companyId=1&userId=1', '?appUrl=https://a.example&companyId=0&userId=1']) {
      const answer = await request(`${emu.url}/app-extensions/host${query}`);
      expect(answer.statusCode, query).toBe(400);
      await answer.body.dump();
    }
  });
});
