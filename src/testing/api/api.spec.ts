import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PipedriveEmulator } from '../index.js';

const CLIENT = { clientId: 'app-1', clientSecret: 'secret-1', redirectUri: 'http://localhost:3000/cb' };
type Json = Record<string, any>;

describe('PipedriveEmulator API', () => {
  let emu: PipedriveEmulator;
  let auth: string;

  beforeEach(async () => {
    emu = await PipedriveEmulator.start({ apps: [CLIENT], rateLimit: { limit: 10_000, windowMs: 2000 } });
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).accessToken}`;
  });
  afterEach(() => emu.close());

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await request(`${emu.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Json };
  };

  it('answers users/me with the token user and company', async () => {
    emu.setAuthorizeUser({ companyId: 1, userId: 1, name: 'Ann', email: 'ann@acme.test', companyName: 'Acme Ltd' });
    const { status, body } = await call('GET', '/api/v1/users/me');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      id: 1,
      name: 'Ann',
      email: 'ann@acme.test',
      company_id: 1,
      company_name: 'Acme Ltd',
      company_domain: 'acme-ltd',
      locale: expect.any(String),
      timezone_name: expect.any(String),
    });
  });

  it('answers 401 for a missing, unknown or invalidated token', async () => {
    expect((await call('GET', '/api/v1/users/me', undefined, { authorization: '' })).status).toBe(401);
    expect((await call('GET', '/api/v1/users/me', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    emu.invalidateAccessTokens();
    const res = await call('GET', '/api/v2/deals');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: 'unauthorized access', data: null });
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1 }).accessToken}`;
    expect((await call('GET', '/api/v2/deals')).status).toBe(200);
  });

  it('answers 401 once an access token has expired', async () => {
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 1, userId: 1, expiresInSeconds: 0 }).accessToken}`;
    expect((await call('GET', '/api/v1/users/me')).status).toBe(401);
  });

  it('walks v2 cursor pagination to the last page', async () => {
    emu.seed(1, { deals: 250 });
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body } = await call('GET', `/api/v2/deals?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...body.data.map((d: Json) => d.id));
      cursor = body.additional_data.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
  });

  it('walks v1 offset pagination of leads to the last page', async () => {
    emu.seed(1, { persons: 3, leads: 7 });
    const first = await call('GET', '/api/v1/leads?limit=5');
    expect(first.body.additional_data.pagination).toEqual({ start: 0, limit: 5, more_items_in_collection: true, next_start: 5 });
    const last = await call('GET', '/api/v1/leads?start=5&limit=5');
    expect(last.body.data).toHaveLength(2);
    expect(last.body.additional_data.pagination).toEqual({ start: 5, limit: 5, more_items_in_collection: false });
  });

  it('defaults to 100 items and refuses limit above 500', async () => {
    emu.seed(1, { persons: 120 });
    expect((await call('GET', '/api/v2/persons')).body.data).toHaveLength(100);
    const tooMany = await call('GET', '/api/v2/persons?limit=501');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ success: false, error: expect.any(String), error_info: expect.any(String) });
  });

  it('creates, reads, patches and deletes a v2 deal', async () => {
    const created = await call('POST', '/api/v2/deals', { title: 'Big one', value: 5000, ignored: true });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ title: 'Big one', value: 5000, status: 'open', owner_id: 1 });
    expect(created.body.data).not.toHaveProperty('ignored');
    const id = created.body.data.id;
    expect((await call('PATCH', `/api/v2/deals/${id}`, { status: 'won' })).body.data).toMatchObject({
      id,
      title: 'Big one',
      status: 'won',
    });
    expect((await call('GET', `/api/v2/deals/${id}`)).body.data.status).toBe('won');
    expect((await call('DELETE', `/api/v2/deals/${id}`)).body).toEqual({ success: true, data: { id } });
    const gone = await call('GET', `/api/v2/deals/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ success: false, error: 'Deal not found', data: null });
  });

  it.each([
    ['/api/v2/deals', { value: 1 }],
    ['/api/v2/persons', { email: 'x' }],
    ['/api/v2/organizations', {}],
    ['/api/v1/leads', { title: 'No links' }],
  ])('refuses POST %s without its required fields', async (path, body) => {
    const res = await call('POST', path, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: expect.any(String), error_info: expect.any(String), data: null });
  });

  it('refuses bodies that are not application/json with 415', async () => {
    const res = await call('POST', '/api/v2/deals', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
  });

  it('creates a lead linked to a person, patches it, and updates a note with PUT', async () => {
    const person = (await call('POST', '/api/v2/persons', { name: 'Ann' })).body.data;
    const lead = await call('POST', '/api/v1/leads', { title: 'Lead', person_id: person.id });
    expect(lead.status).toBe(201);
    expect(lead.body.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('PATCH', `/api/v1/leads/${lead.body.data.id}`, { title: 'Renamed' })).body.data.title).toBe('Renamed');
    const note = await call('POST', '/api/v1/notes', { content: 'Hi', person_id: person.id });
    expect((await call('PUT', `/api/v1/notes/${note.body.data.id}`, { content: 'Bye' })).body.data.content).toBe('Bye');
    expect((await call('PATCH', `/api/v1/notes/${note.body.data.id}`, { content: 'x' })).status).toBe(405);
  });

  it('keeps each company to its own data', async () => {
    emu.seed(1, { deals: 2 });
    auth = `Bearer ${emu.grant({ clientId: CLIENT.clientId, companyId: 2, userId: 5 }).accessToken}`;
    expect((await call('GET', '/api/v2/deals')).body.data).toEqual([]);
    expect((await call('GET', '/api/v2/deals/1')).status).toBe(404);
  });

  it('seeds the same data for the same calls', async () => {
    emu.seed(3, { organizations: 2, persons: 3, deals: 4, activities: 2, leads: 2, notes: 2 });
    emu.seed(4, { organizations: 2, persons: 3, deals: 4, activities: 2, leads: 2, notes: 2 });
    expect(emu.records(3, 'deals')).toEqual(emu.records(4, 'deals'));
    expect(emu.records(3, 'persons')).toEqual(emu.records(4, 'persons'));
    expect(emu.records(3, 'stages')).toHaveLength(5);
  });

  it('answers 404 JSON for unknown routes and 410 for retired v1 endpoints', async () => {
    expect((await call('GET', '/api/v2/nothing')).status).toBe(404);
    expect((await call('GET', '/api/v1/deals')).status).toBe(410);
  });
});
