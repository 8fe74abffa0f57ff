import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { v1, v2 } from 'pipedrive';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveConnectionClient } from '../src/client/pipedrive-connection.client.js';
import { PipedriveApiError, PipedriveConnectionNotFoundError } from '../src/errors/pipedrive.errors.js';
import { startClientContext } from './support/client-context.js';
import { startClientFixture, type ClientFixture } from './support/client-fixture.js';

/** A pass-through to the emulator on another origin, counting what it forwards. */
async function startCountingProxy(target: string): Promise<{ url: string; forwarded: () => number; server: Server }> {
  let forwarded = 0;
  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    forwarded++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { host: _host, connection: _connection, ...headers } = req.headers;
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const answer = await request(`${target}${req.url}`, { method: req.method as 'GET', headers, body });
    const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...answerHeaders } = answer.headers;
    res.writeHead(answer.statusCode, answerHeaders);
    res.end(Buffer.from(await answer.body.arrayBuffer()));
  };
  // A failed forward closes the socket, which the client sees as a network error, instead of an unhandled rejection.
  const server = createServer((req, res) => void forward(req, res).catch((error: Error) => res.destroy(error)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, forwarded: () => forwarded, server };
}

describe('PipedriveClient against the emulator', () => {
  let f: ClientFixture;
  let api: PipedriveConnectionClient;

  beforeAll(async () => {
    f = await startClientFixture();
    api = f.client.forConnection(f.connectionId);
  });
  afterAll(() => f.close());
  beforeEach(() => f.emu.resetCounts());

  it('acts as the connection: users.me is the connected user', async () => {
    const me = await api.users.me();
    expect(me).toMatchObject({ id: 1, company_id: 1 });
    expect(f.apiRequests()).toMatchObject([{ method: 'GET', path: '/api/v1/users/me', auth: 'bearer', status: 200 }]);
  });

  it('creates, reads, updates, lists and deletes deals (v2)', async () => {
    const created = await api.deals.create({ title: 'Big one', value: 5000, currency: 'EUR' });
    expect(created).toMatchObject({ title: 'Big one', value: 5000, status: 'open' });
    expect((await api.deals.get(created.id)).title).toBe('Big one');
    expect((await api.deals.update(created.id, { status: 'won' })).status).toBe('won');
    expect((await api.deals.list({ status: 'won' })).data.map((d) => d.id)).toContain(created.id);
    expect(await api.deals.delete(created.id)).toEqual({ id: created.id });
    expect(f.apiRequests().map((r) => r.method)).toEqual(['POST', 'GET', 'PATCH', 'GET', 'DELETE']);
  });

  it('covers persons, organizations, activities, pipelines and stages (v2)', async () => {
    const org = await api.organizations.create({ name: 'Acme' });
    const person = await api.persons.create({ name: 'Ann', org_id: org.id, emails: [{ value: 'ann@acme.test', primary: true }] });
    expect((await api.persons.get(person.id)).emails[0]!.value).toBe('ann@acme.test');
    const activity = await api.activities.create({ subject: 'Call Ann', type: 'call', person_id: person.id });
    expect((await api.activities.update(activity.id, { done: true })).done).toBe(true);
    const [pipeline] = await api.pipelines.all();
    const stages = await api.stages.all({ pipeline_id: pipeline!.id });
    expect(stages.length).toBeGreaterThan(0);
    expect(stages.every((stage) => stage.pipeline_id === pipeline!.id)).toBe(true);
  });

  it('covers leads (v1, PATCH) and notes (v1, PUT)', async () => {
    const org = await api.organizations.create({ name: 'Lead Org' });
    const lead = await api.leads.create({ title: 'Warm lead', organization_id: org.id });
    expect(typeof lead.id).toBe('string');
    expect((await api.leads.update(lead.id, { title: 'Hot lead' })).title).toBe('Hot lead');
    const note = await api.notes.create({ content: 'Called', lead_id: lead.id });
    expect((await api.notes.update(note.id, { content: 'Called twice' })).content).toBe('Called twice');
    await api.notes.delete(note.id);
    expect(f.apiRequests().map((r) => `${r.method} ${r.path.split('/').slice(0, 4).join('/')}`)).toEqual([
      'POST /api/v2/organizations',
      'POST /api/v1/leads',
      'PATCH /api/v1/leads',
      'POST /api/v1/notes',
      'PUT /api/v1/notes',
      'DELETE /api/v1/notes',
    ]);
  });

  it('returns additional_data and the rate-limit state from request()', async () => {
    f.emu.seed(1, { deals: 3 });
    const page = await api.request<unknown[]>('GET', '/v2/deals', { query: { limit: 2 } });
    expect(page.data).toHaveLength(2);
    expect(typeof page.additionalData?.next_cursor).toBe('string');
    expect(page.rateLimit).toMatchObject({ limit: 80 });
  });

  describe('pagination', () => {
    let company2: PipedriveConnectionClient;
    beforeAll(async () => {
      const user = { companyId: 2, userId: 1 };
      await f.connect(user, f.emu.grant({ clientId: 'client-app', ...user }));
      f.emu.seed(2, { deals: 1_200, leads: 7 });
      company2 = f.client.forUser(2, 1);
    });
    const listCalls = (path: string) => f.apiRequests().filter((r) => r.path === path);

    it('follows v2 cursors to the last page', async () => {
      const deals = await company2.deals.all();
      expect(deals).toHaveLength(1_200);
      expect(new Set(deals.map((d) => d.id)).size).toBe(1_200);
      expect(listCalls('/api/v2/deals').map((r) => r.query.limit)).toEqual(['500', '500', '500']);
    });

    it('follows v1 offsets to the last page', async () => {
      const leads = await company2.leads.all({ limit: 3 });
      expect(leads).toHaveLength(7);
      expect(listCalls('/api/v1/leads').map((r) => r.query.start)).toEqual(['0', '3', '6']);
    });

    it('fetches nothing more after the loop breaks', async () => {
      let seen = 0;
      for await (const _deal of company2.deals.iterate({}, { pageSize: 100 })) if (++seen === 150) break;
      expect(listCalls('/api/v2/deals')).toHaveLength(2);
    });

    it('asks only for what maxItems still needs', async () => {
      const deals = await company2.all('/v2/deals', { pageSize: 100, maxItems: 250 });
      expect(deals).toHaveLength(250);
      expect(listCalls('/api/v2/deals').map((r) => r.query.limit)).toEqual(['100', '100', '50']);
    });
  });

  it("throws PipedriveApiError with Pipedrive's fields", async () => {
    const error = (await api.deals.get(987_654).catch((e: unknown) => e)) as PipedriveApiError;
    expect(error).toBeInstanceOf(PipedriveApiError);
    expect(error.details).toMatchObject({
      status: 404,
      method: 'GET',
      path: '/api/v2/deals/987654',
      error: 'Deal not found',
      code: 'ERR_NOT_FOUND',
      errorInfo: expect.stringContaining('developers.pipedrive.com'),
      rateLimit: { limit: 80 },
    });
    const bad = (await api.get('/v2/deals', { query: { limit: 501 } }).catch((e: unknown) => e)) as PipedriveApiError;
    expect(bad.details).toMatchObject({ status: 400, code: 'ERR_SCHEMA_VALIDATION_FAILED' });
    for (const view of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })])
      expect(view).not.toContain(f.grant.accessToken);
  });

  it('finds the connection of a (company, user), or says there is none', async () => {
    expect((await f.client.forUser(1, 1).users.me()).id).toBe(1);
    await expect(f.client.forUser(99, 99).users.me()).rejects.toBeInstanceOf(PipedriveConnectionNotFoundError);
  });

  it('hands the official SDK a token backed by TokenService', async () => {
    const deals = await api.sdk(v2.DealsApi, 'v2');
    const created = await api.deals.create({ title: 'Via SDK' });
    expect((await deals.getDeal({ id: created.id })).data?.title).toBe('Via SDK');
    const users = await api.sdk(v1.UsersApi, 'v1');
    expect((await users.getCurrentUser()).data?.id).toBe(1);
  });

  it('closes its connection pools with the module', async () => {
    const other = await startClientContext(f.emu.url);
    const user = { companyId: 3, userId: 1 };
    const { id } = await other.connect(user, f.emu.grant({ clientId: 'client-app', ...user }));
    expect((await other.client.forConnection(id).users.me()).company_id).toBe(3);
    await other.close();
    await expect(other.client.forConnection(id).users.me()).rejects.toThrow('PipedriveClient is closed');
  });

  it('follows a changed api_domain after a refresh, when that origin is allowed', async () => {
    const proxy = await startCountingProxy(f.emu.url);
    // api_domain is trusted only on *.pipedrive.com or in allowedApiDomains (issue 8).
    const other = await startClientContext(f.emu.url, { allowedApiDomains: [proxy.url] });
    try {
      const user = { companyId: 4, userId: 1 };
      const { id } = await other.connect(user, f.emu.grant({ clientId: 'client-app', ...user }));
      const moved = other.client.forConnection(id);
      f.emu.setApiDomain(4, proxy.url);
      f.emu.invalidateAccessTokens(4);
      await moved.users.me(); // 401 at the old domain -> refresh answers the new one -> retried there
      await moved.users.me();
      expect(proxy.forwarded()).toBe(2);
      expect((await other.tokens.findConnection(id))?.apiDomain).toBe(proxy.url);
    } finally {
      await other.close();
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });
});
