import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve, connectAs, send, start, startOn } from './support/browser-flow.js';
import { type ReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/**
 * App extensions of the reference app over real HTTP, with tokens signed as Pipedrive signs them
 * (HS256, the client secret) and with every kind of wrong token: no answer but a 401 carries data.
 */
describe('app extensions of the reference app', () => {
  let app: ReferenceApp;
  let stop: () => Promise<void>;
  const A = { companyId: 701, userId: 1 };
  const B = { companyId: 702, userId: 1 };
  const NEVER_CONNECTED = { companyId: 703, userId: 9 };
  let dealA: number;

  beforeAll(async () => {
    ({ app, stop } = await startOn('sqlite'));
    await connectAs(app, A.companyId, A.userId);
    await connectAs(app, B.companyId, B.userId);
    dealA = Number(app.emulator.seed(A.companyId, { deals: 3 }).deals[0]);
    app.emulator.seed(B.companyId, { deals: 3 });
  });
  afterAll(() => stop?.());

  const secret = new TextEncoder().encode(TEST_CLIENT.clientSecret);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  /** A token as Pipedrive signs it; `claims` overrides or removes (undefined) any claim. */
  async function token(owner: { companyId: number; userId: number }, claims: Record<string, unknown> = {}, key = secret, alg = 'HS256') {
    const payload = Object.fromEntries(
      Object.entries({ userId: owner.userId, companyId: owner.companyId, iat: nowSeconds(), exp: nowSeconds() + 300, ...claims }).filter(
        ([, value]) => value !== undefined,
      ),
    );
    return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
  }
  const panelUrl = (tokenValue: string | undefined, query: Record<string, string> = {}) => {
    const url = new URL('/extensions/deal-panel', app.url);
    const params = { id: 'ext-1', resource: 'deal', view: 'details', selectedIds: String(dealA), ...query };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    if (tokenValue !== undefined) url.searchParams.set('token', tokenValue);
    return url.toString();
  };
  const dealTitle = (companyId: number, id: number) =>
    String(app.emulator.records(companyId, 'deals').find((deal) => deal.id === id)!.title);

  describe('refuses every bad token with 401 and no data', () => {
    const refusals: Array<[string, () => Promise<string | undefined>, string]> = [
      ['no token', async () => undefined, 'extension_token_required'],
      ['a token that is not a JWT', async () => 'not-a-jwt', 'invalid_extension_token'],
      [
        'a token signed with another secret',
        () => token(A, {}, new TextEncoder().encode('some-other-secret-0123456789')),
        'invalid_extension_token',
      ],
      ['an HS512 token', () => token(A, {}, secret, 'HS512'), 'invalid_extension_token'],
      [
        'an unsigned (alg none) token',
        async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...A, exp: nowSeconds() + 60 })}.`,
        'invalid_extension_token',
      ],
      ['a token that expired a minute ago', () => token(A, { iat: nowSeconds() - 360, exp: nowSeconds() - 60 }), 'extension_token_expired'],
      ['a token not valid for another minute', () => token(A, { nbf: nowSeconds() + 60 }), 'extension_token_not_yet_valid'],
      ['a token without exp', () => token(A, { exp: undefined }), 'invalid_extension_token'],
      ['a token without companyId', () => token(A, { companyId: undefined }), 'invalid_extension_token'],
      ['a token whose userId is not an id', () => token(A, { userId: 'admin' }), 'invalid_extension_token'],
    ];
    it.each(refusals)('%s', async (_name, make, code) => {
      const answer = await send(panelUrl(await make()));
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ statusCode: 401, error: code });
      expect(answer.text).not.toContain(dealTitle(A.companyId, dealA));
    });

    it('a token whose companyId or userId differ from the query', async () => {
      for (const query of [{ companyId: String(B.companyId) }, { userId: '2' }, { companyId: 'x' }]) {
        const answer = await send(panelUrl(await token(A), { userId: String(A.userId), companyId: String(A.companyId), ...query }));
        expect(answer.status).toBe(401);
        expect(answer.json.error).toBe('extension_token_mismatch');
      }
    });

    it('the token twice, or a malformed Authorization header', async () => {
      const good = await token(A);
      const twice = `${panelUrl(good)}&token=${good}`;
      expect((await send(twice)).status).toBe(401);
      const basic = await send(`${app.url}/extensions/api/deals/${dealA}/notes`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(basic.status).toBe(401);
      expect(basic.json.error).toBe('invalid_extension_token');
    });

    it('the API takes the Bearer header only: a session cookie is not enough', async () => {
      const { session } = await connectAs(app, A.companyId, A.userId);
      const answer = await send(`${app.url}/extensions/api/deals/${dealA}/notes`, { headers: { cookie: session } });
      expect(answer.status).toBe(401);
      expect(answer.json.error).toBe('extension_token_required');
    });
  });

  it('shows the deal panel to a connected user, framable by Pipedrive only', async () => {
    const answer = await send(panelUrl(await token(A), { userId: String(A.userId), companyId: String(A.companyId) }));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/text\/html/);
    expect(answer.text).toContain(escapeHtml(dealTitle(A.companyId, dealA)));
    expect(answer.text).toContain('/assets/app-extensions-sdk.js');
    expect(answer.headers['content-security-policy']).toBe('frame-ancestors https://*.pipedrive.com');
    expect(answer.headers['x-frame-options']).toBeUndefined();
    expect(answer.headers['referrer-policy']).toBe('same-origin');
    expect(answer.headers['cache-control']).toBe('no-store');
    const sdk = await send(`${app.url}/assets/app-extensions-sdk.js`);
    expect(sdk.status).toBe(200);
    expect(sdk.text).toContain('get_signed_token');
  });

  it('keeps every other route unframeable', async () => {
    for (const path of ['/', '/health', '/pipedrive/deals', `/extensions/api/deals/${dealA}/notes`]) {
      const answer = await send(`${app.url}${path}`);
      expect(answer.headers['content-security-policy'], path).toBe("frame-ancestors 'none'");
      expect(answer.headers['x-frame-options'], path).toBe('DENY');
    }
  });

  it('adds and lists notes as the token’s connection, and only within its company', async () => {
    const bearer = { authorization: `Bearer ${await token(A)}`, 'content-type': 'application/json' };
    const added = await send(`${app.url}/extensions/api/deals/${dealA}/notes`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ content: 'Called the client' }),
    });
    expect(added.status, added.text).toBe(201);
    expect(added.json).toMatchObject({ content: 'Called the client', deal_id: dealA, user_id: A.userId });
    expect(
      app.emulator
        .records(A.companyId, 'notes')
        .filter((note) => note.deal_id === dealA)
        .map((note) => note.content),
    ).toContain('Called the client');
    const listed = await send(`${app.url}/extensions/api/deals/${dealA}/notes`, { headers: bearer });
    expect(listed.json.map((note: { content: string }) => note.content)).toContain('Called the client');

    // Company A's token on a deal only company B has: B's data is neither read nor written.
    app.emulator.seed(B.companyId, { deals: 20 });
    const idsOfA = new Set(app.emulator.records(A.companyId, 'deals').map((deal) => deal.id));
    const onlyInB = app.emulator
      .records(B.companyId, 'deals')
      .map((deal) => Number(deal.id))
      .find((id) => !idsOfA.has(id))!;
    const notesOfB = app.emulator.records(B.companyId, 'notes').length;
    const read = await send(`${app.url}/extensions/api/deals/${onlyInB}/notes`, { headers: bearer });
    expect(read.status).toBe(404);
    expect(Object.keys(read.json).sort()).toEqual(['error', 'message', 'statusCode']);
    const write = await send(`${app.url}/extensions/api/deals/${onlyInB}/notes`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ content: 'intruder' }),
    });
    expect(write.status).toBe(404);
    expect(app.emulator.records(B.companyId, 'notes')).toHaveLength(notesOfB);
    expect(app.emulator.records(A.companyId, 'notes').map((note) => note.content)).not.toContain('intruder');
  });

  it('answers bad input with 400, never 5xx', async () => {
    const bearer = { authorization: `Bearer ${await token(A)}`, 'content-type': 'application/json' };
    const notes = `${app.url}/extensions/api/deals/${dealA}/notes`;
    for (const body of ['{', '[]', '{"content":""}', '{"content":42}', '{"content":"x","extra":1}']) {
      const answer = await send(notes, { method: 'POST', headers: bearer, body });
      expect(answer.status, body).toBe(400);
    }
    for (const id of ['abc', '0', '-1', '1e3', '99999999999999999999']) {
      expect((await send(`${app.url}/extensions/api/deals/${id}/notes`, { headers: bearer })).status, id).toBe(400);
    }
    expect((await send(panelUrl(await token(A), { selectedIds: '' }))).status).toBe(400);
    expect((await send(panelUrl(await token(A), { resource: 'person' }))).status).toBe(400);
  });

  it('shows a verified user who never connected a link to connect, and no data', async () => {
    const page = await send(panelUrl(await token(NEVER_CONNECTED)));
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('/auth/pipedrive');
    expect(page.text).not.toContain(escapeHtml(dealTitle(A.companyId, dealA)));
    expect(page.headers['content-security-policy']).toBe('frame-ancestors https://*.pipedrive.com');
    const api = await send(`${app.url}/extensions/api/deals/${dealA}/notes`, {
      headers: { authorization: `Bearer ${await token(NEVER_CONNECTED)}` },
    });
    expect(api.status).toBe(403);
    expect(api.json.error).toBe('pipedrive_not_connected');
  });

  it('answers the JSON panel as Pipedrive’s server calls it', async () => {
    const appUrl = `${app.url}/extensions/deal-json-panel`;
    const answer = await app.emulator.extensions.callJsonPanel({ appUrl, ...A, selectedIds: [dealA] });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ data: [{ id: dealA, header: dealTitle(A.companyId, dealA) }] });
    const refused = await app.emulator.extensions.callJsonPanel(
      { appUrl, ...A, selectedIds: [dealA] },
      { basicAuth: { username: 'u', password: 'p' } },
    );
    expect(refused.status).toBe(401);
  });

  it('sends a browser back to / after connecting; other clients keep the JSON answer', async () => {
    app.emulator.setAuthorizeUser(A);
    const started = await start(app);
    const callback = await approve(started);
    const browser = await send(callback, {
      headers: { cookie: started.cookie, accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toBe('/');
    const again = await start(app);
    const api = await send(await approve(again), { headers: { cookie: again.cookie, accept: 'application/json' } });
    expect(api.status).toBe(200);
    expect(api.json).toMatchObject({ companyId: A.companyId, userId: A.userId });
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
