import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/testing/index.js';
import { connectAs, expectNoTokensSeen, send, startOn } from './support/browser-flow.js';
import { captureOutput } from './support/capture.js';
import { type ReferenceApp, TEST_CLIENT } from './support/reference-app.js';
import { LIST_LIMIT } from '../src/app/pipedrive/list-query.dto.js';

/**
 * The reference app's Pipedrive routes as a signed-in browser uses them, over real HTTP against the
 * emulator, on a SQLite file and on PostgreSQL: bounded lists (`?limit`), creating a deal,
 * a connection that needs re-authorization, and a restart.
 */
describe.each(['sqlite', 'postgres'] as const)('reference app routes on %s', (database) => {
  let app: ReferenceApp;
  let databaseUrl: string;
  let stop: () => Promise<void>;
  /** Everything the app logs (Nest's logger writes to stdout/stderr), kept for the no-token check. */
  let logged: ReturnType<typeof captureOutput>;
  /** The library's time in the app: back-off passes when a test advances it. */
  const clock = new ManualClock(Date.now());
  let nextCompany = 600;

  beforeAll(async () => {
    logged = captureOutput();
    ({ app, databaseUrl, stop } = await startOn(database, undefined, clock));
  });
  afterAll(async () => {
    await stop?.();
    logged?.restore();
  });

  const get = (path: string, session?: string) => send(`${app.url}${path}`, { headers: session ? { cookie: session } : {} });
  const apiCalls = (path: string) => app.emulator.requests.filter((r) => r.path === path);

  /** A refresh Pipedrive fails with 503: the route answers 502, and 200 once the 1 s back-off has passed. */
  async function failRefreshThenRecover(companyId: number) {
    const { session } = await connectAs(app, companyId, 1);
    app.emulator.invalidateAccessTokens(companyId);
    app.emulator.failNextToken(1, 503);
    const failed = await get('/pipedrive/me', session);
    await clock.advance(999);
    const backingOff = await get('/pipedrive/me', session);
    await clock.advance(1);
    const recovered = await get('/pipedrive/me', session);
    return { failed, backingOff, recovered };
  }

  /** Every route once, as a signed-in browser and as a stranger, with a failing refresh among them. */
  async function useEveryRoute(companyId: number) {
    const { session } = await connectAs(app, companyId, 1);
    app.emulator.seed(companyId, { deals: 3, leads: 2 });
    await get('/pipedrive/deals', session);
    await get('/pipedrive/leads', session);
    await get('/pipedrive/me', session);
    const post = (body: object) =>
      send(`${app.url}/pipedrive/deals`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post({ title: 'Pilot' });
    await post({ value: 1 });
    await get('/pipedrive/deals');
    await failRefreshThenRecover(companyId + 1);
  }

  it(`GET /pipedrive/deals returns the first ${LIST_LIMIT.default} deals by default, in one Pipedrive call`, async () => {
    const { session } = await connectAs(app, 501, 1);
    app.emulator.seed(501, { deals: 1_234 });
    app.emulator.resetCounts();
    const answer = await get('/pipedrive/deals', session);
    expect(answer.status).toBe(200);
    expect(answer.json).toHaveLength(LIST_LIMIT.default);
    expect(apiCalls('/api/v2/deals').map((page) => page.query.limit)).toEqual([String(LIST_LIMIT.default)]);
    const most = await get(`/pipedrive/deals?limit=${LIST_LIMIT.max}`, session);
    expect(most.json).toHaveLength(LIST_LIMIT.max);
    expect(new Set(most.json.map((deal: { id: number }) => deal.id)).size).toBe(LIST_LIMIT.max);
  });

  it('GET /pipedrive/leads?limit=7 returns 7 leads, asking Pipedrive for 7', async () => {
    const { session } = await connectAs(app, 502, 1);
    app.emulator.seed(502, { leads: 730 });
    app.emulator.resetCounts();
    const answer = await get('/pipedrive/leads?limit=7', session);
    expect(answer.status).toBe(200);
    expect(answer.json).toHaveLength(7);
    expect(apiCalls('/api/v1/leads').map((page) => [page.query.start ?? '0', page.query.limit])).toEqual([['0', '7']]);
  });

  it('refuses a ?limit out of range, not a number, or given twice with 400 and calls nothing', async () => {
    const { session } = await connectAs(app, 509, 1);
    app.emulator.resetCounts();
    for (const query of [`limit=${LIST_LIMIT.max + 1}`, 'limit=0', 'limit=abc', 'limit=1e3', 'limit=-5', 'limit=1&limit=2']) {
      const answer = await get(`/pipedrive/deals?${query}`, session);
      expect(answer.status, query).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_query', message: expect.stringContaining('limit') });
    }
    expect(app.emulator.counts.api).toBe(0);
  });

  it('POST /pipedrive/deals creates the deal as the session user: 201 with the deal', async () => {
    const { session } = await connectAs(app, 503, 2);
    const answer = await send(`${app.url}/pipedrive/deals`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Annual plan', value: 1200, currency: 'EUR' }),
    });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.json).toMatchObject({ id: expect.any(Number), title: 'Annual plan', value: 1200, currency: 'EUR' });
    expect(app.emulator.records(503, 'deals')).toEqual([expect.objectContaining({ title: 'Annual plan' })]);
  });

  it('POST /pipedrive/deals without a title answers 400 with a reason and sends nothing to Pipedrive', async () => {
    const { session } = await connectAs(app, 504, 1);
    app.emulator.resetCounts();
    const answer = await send(`${app.url}/pipedrive/deals`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 5 }),
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: 'invalid_body', message: expect.stringContaining('title') });
    expect(app.emulator.counts.api).toBe(0);
  });

  it('answers 401 with a JSON reason once Pipedrive refuses the refresh token, without retrying it', async () => {
    const { session } = await connectAs(app, 505, 1);
    app.emulator.invalidateAccessTokens(505);
    app.emulator.revokeRefreshTokens(505);
    app.emulator.resetCounts();
    const first = await get('/pipedrive/me', session);
    expect(first.status).toBe(401);
    expect(first.json).toMatchObject({ error: 'reauthorization_required', message: expect.any(String) });
    expect(app.emulator.counts.refreshToken).toBe(1);
    const again = await get('/pipedrive/deals', session);
    expect(again.status).toBe(401);
    expect(app.emulator.counts.refreshToken).toBe(1);
  });

  it('answers 502 while Pipedrive cannot refresh an expired token, and recovers after the back-off', async () => {
    const { failed, backingOff, recovered } = await failRefreshThenRecover(507);
    expect(failed.status).toBe(502);
    expect(failed.json).toMatchObject({ statusCode: 502, message: expect.any(String) });
    expect(backingOff.status).toBe(502); // the first back-off is 1 s
    expect(recovered.status).toBe(200);
  });

  it('keeps the connection and the session across a restart', async () => {
    const { session } = await connectAs(app, 506, 3);
    await app.restart();
    const me = await get('/pipedrive/me', session);
    expect(me.status, me.text).toBe(200);
    expect(me.json).toMatchObject({ id: 3, company_id: 506 });
  });

  it('answers 401 without a session', async () => {
    expect((await get('/pipedrive/deals')).status).toBe(401);
  });

  it('never sent a token in any response body or header', async () => {
    await useEveryRoute(nextCompany++);
    nextCompany++;
    expectNoTokensSeen(12);
  });

  // PostgreSQL keeps its files elsewhere; the SQLite file is the one a test can read byte for byte.
  if (database === 'sqlite') {
    it('keeps no token in plain text in the SQLite file', async () => {
      await connectAs(app, 508, 1);
      const path = databaseUrl.slice('sqlite:'.length);
      const files = [path, `${path}-wal`].filter((file) => existsSync(file));
      const bytes = files.map((file) => readFileSync(file).toString('latin1')).join('');
      expect(bytes).toContain('pipedrive_connections'); // it is the right file
      expect(bytes).not.toMatch(/v1u:/); // the emulator's access tokens
      expect(bytes).not.toMatch(/\d+:\d+:[A-Za-z0-9_-]{30,}/); // its refresh tokens
    });
  }

  it('never wrote a token to a log line', async () => {
    await useEveryRoute(nextCompany++);
    nextCompany++;
    const text = logged.text();
    expect(text).toMatch(/Refreshing Pipedrive connection .* failed/); // the failed refresh was logged
    expect(text).not.toMatch(/v1u:/); // the emulator's access tokens
    expect(text).not.toMatch(/\d+:\d+:[A-Za-z0-9_-]{30,}/); // its refresh tokens
    expect(text).not.toContain(TEST_CLIENT.clientSecret);
  });
});
