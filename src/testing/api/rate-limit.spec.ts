import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, PipedriveEmulator } from '../index.js';

const CLIENT = { clientId: 'app-1', clientSecret: 'secret-1', redirectUri: 'http://localhost:3000/cb' };

describe('PipedriveEmulator rate limits and API faults', () => {
  let emu: PipedriveEmulator;
  let clock: ManualClock;
  let auth: string;

  beforeEach(async () => {
    clock = new ManualClock(1_800_000_000_000);
    emu = await PipedriveEmulator.start({ apps: [CLIENT], clock, rateLimit: { limit: 3, windowMs: 2000 } });
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).accessToken}`;
  });
  afterEach(() => emu.close());

  const me = async () => {
    const res = await request(`${emu.url}/api/v1/users/me`, { headers: { authorization: auth } });
    const text = await res.body.text();
    const header = (name: string) => res.headers[name] as string | undefined;
    return {
      status: res.statusCode,
      text,
      limit: header('x-ratelimit-limit'),
      remaining: header('x-ratelimit-remaining'),
      reset: header('x-ratelimit-reset'),
      retryAfter: header('retry-after'),
    };
  };

  it('counts down x-ratelimit-remaining and answers 429 beyond the window', async () => {
    expect(await me()).toMatchObject({ status: 200, limit: '3', remaining: '2', reset: '2' });
    await me();
    expect((await me()).remaining).toBe('0');
    await clock.advance(500);
    const over = await me();
    expect(over).toMatchObject({ status: 429, limit: '3', remaining: '0', reset: '2' });
    expect(JSON.parse(over.text)).toMatchObject({ success: false, error: 'Request over limit' });
    expect(emu.counts.rateLimited).toBe(1);
  });

  it('rolls: capacity returns as the oldest requests leave the window, and 429s do not count', async () => {
    await me();
    await clock.advance(1000);
    await me();
    await me();
    for (let i = 0; i < 5; i++) expect((await me()).status).toBe(429);
    await clock.advance(1001);
    expect(await me()).toMatchObject({ status: 200, remaining: '0' });
    expect((await me()).status).toBe(429);
  });

  it('keeps a separate window per access token', async () => {
    for (let i = 0; i < 3; i++) await me();
    expect((await me()).status).toBe(429);
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).accessToken}`;
    expect((await me()).status).toBe(200);
  });

  it('setRateLimit changes the limit for later requests', async () => {
    emu.setRateLimit({ limit: 1, windowMs: 1000 });
    expect((await me()).limit).toBe('1');
    expect((await me()).status).toBe(429);
  });

  it('rateLimitNextApi forces 429s with chosen headers, Retry-After, or no headers', async () => {
    emu.rateLimitNextApi(1, { resetSeconds: 7, retryAfterSeconds: 9 });
    emu.rateLimitNextApi(1, { headers: false });
    expect(await me()).toMatchObject({ status: 429, reset: '7', retryAfter: '9', remaining: '0' });
    expect(await me()).toMatchObject({ status: 429, reset: undefined, limit: undefined, retryAfter: undefined });
    expect((await me()).status).toBe(200);
    expect(emu.counts.rateLimited).toBe(2);
  });

  it('failNextApi answers the status, a custom body, or resets the connection', async () => {
    emu.failNextApi(1, 503);
    emu.failNextApi(1, 403, { body: '<html>blocked</html>', headers: { 'content-type': 'text/html' } });
    emu.failNextApi(1, 'reset');
    const unavailable = await me();
    expect(unavailable.status).toBe(503);
    expect(JSON.parse(unavailable.text)).toMatchObject({ success: false, data: null });
    expect(await me()).toMatchObject({ status: 403, text: '<html>blocked</html>' });
    await expect(me()).rejects.toThrow();
    expect((await me()).status).toBe(200);
    expect(emu.counts.api).toBe(4);
  });

  it('API latency holds answers until the clock has moved that far', async () => {
    emu.setLatency({ apiMs: 120 });
    let answered = false;
    const pending = me().then((answer) => ((answered = true), answer));
    while (clock.pendingSleeps === 0) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(119);
    expect(answered).toBe(false);
    await clock.advance(1);
    expect((await pending).status).toBe(200);
  });
});
