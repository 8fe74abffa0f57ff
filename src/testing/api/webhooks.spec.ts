import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, PipedriveEmulator, type PipedriveEmulatorOptions } from '../index.js';

const ADMIN_APP = {
  clientId: 'hooks-app',
  clientSecret: 'hooks-secret',
  redirectUri: 'http://127.0.0.1:9/cb',
  scope: 'base,deals:full,contacts:full,admin',
};
const PLAIN_APP = { clientId: 'plain-app', clientSecret: 'plain-secret', redirectUri: 'http://127.0.0.1:9/cb' };
const CREDENTIALS = { http_auth_user: 'pd-hook', http_auth_password: 'a-long-random-password' };
const MINUTE = 60_000;
type Json = Record<string, any>;

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Json;
}

/** A subscription URL: records every POST and answers what `answer` says (a status, or 'hang'). */
class Receiver {
  readonly received: Received[] = [];
  answer: (n: number) => number | 'hang' = () => 200;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.received.push({ method: req.method!, path: req.url!, headers: req.headers, body: text ? (JSON.parse(text) as Json) : {} });
        const answer = this.answer(this.received.length);
        if (answer === 'hang') return;
        res.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/pipedrive`;
  }

  get deliveries(): Json[] {
    return this.received.filter((r) => r.method === 'POST').map((r) => r.body);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('Emulator app webhooks', () => {
  let emu: PipedriveEmulator;
  let receiver: Receiver;

  const start = async (options: PipedriveEmulatorOptions = {}) => {
    emu = await PipedriveEmulator.start({ apps: [ADMIN_APP, PLAIN_APP], rateLimit: { limit: 10_000, windowMs: 2000 }, ...options });
  };
  const tokenOf = (clientId = ADMIN_APP.clientId, userId = 1, companyId = 1) =>
    `Bearer ${emu.grant({ clientId, companyId, userId }).accessToken}`;
  const call = async (auth: string, method: string, path: string, body?: unknown) => {
    const res = await request(`${emu.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Json };
  };
  const subscribe = (auth: string, event: string, extra: Json = {}) => {
    const [event_action, event_object] = event.split('.');
    return call(auth, 'POST', '/api/v1/webhooks', {
      subscription_url: receiver.url,
      event_action,
      event_object,
      version: '2.0',
      ...CREDENTIALS,
      ...extra,
    });
  };

  beforeEach(async () => {
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await emu?.close();
    await receiver.close();
  });

  describe('the API', () => {
    beforeEach(() => start());

    it('needs the admin scope: 403 in Pipedrive’s error envelope without it', async () => {
      const res = await subscribe(tokenOf(PLAIN_APP.clientId), 'create.deal');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'Scope and URL mismatch', data: null });
      expect((await call(tokenOf(PLAIN_APP.clientId), 'GET', '/api/v1/webhooks')).status).toBe(403);
      expect(emu.webhooks()).toEqual([]);
    });

    it('creates an application webhook and answers 201 with its fields', async () => {
      const res = await subscribe(tokenOf(), '*.deal');
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ success: true });
      expect(res.body.data).toMatchObject({
        id: expect.any(Number),
        company_id: 1,
        owner_id: 1,
        user_id: 1,
        event_action: '*',
        event_object: 'deal',
        subscription_url: receiver.url,
        version: '2.0',
        is_active: 1,
        type: 'application',
        add_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        remove_time: null,
        http_auth_user: 'pd-hook',
      });
    });

    it.each([
      ['a v1-only object', { event_object: 'pipeline' }, /pipeline/],
      ['activityType', { event_object: 'activityType' }, /activityType/],
      ['a v1 action', { event_action: 'added' }, /event_action/],
      ['an unknown object', { event_object: 'invoice' }, /event_object/],
      ['an invalid URL', { subscription_url: 'not a url' }, /subscription_url/],
      ['a non-http URL', { subscription_url: 'ftp://example.com/hook' }, /subscription_url/],
      ['a Pipedrive API URL', { subscription_url: 'https://acme.pipedrive.com/api/v1/deals' }, /Pipedrive API/],
      ['version 1.0', { version: '1.0' }, /version/],
      ['a non-string password', { http_auth_password: 42 }, /http_auth_password/],
    ])('refuses %s with 400 and creates nothing', async (_label, override, message) => {
      const res = await subscribe(tokenOf(), 'create.deal', override);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, data: null, error: expect.stringMatching(message) });
      expect(emu.webhooks()).toEqual([]);
    });

    it('refuses the emulator’s own API as subscription URL', async () => {
      const res = await subscribe(tokenOf(), 'create.deal', { subscription_url: `${emu.url}/api/v1/webhooks` });
      expect(res.status).toBe(400);
    });

    it('lists and deletes only the calling app user’s webhooks', async () => {
      const mine = tokenOf(ADMIN_APP.clientId, 1);
      const colleague = tokenOf(ADMIN_APP.clientId, 2);
      const id = (await subscribe(mine, 'create.deal')).body.data.id as number;
      await subscribe(colleague, 'change.person');
      const listed = await call(mine, 'GET', '/api/v1/webhooks');
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((w: Json) => [w.id, w.event_object])).toEqual([[id, 'deal']]);
      expect((await call(colleague, 'DELETE', `/api/v1/webhooks/${id}`)).status).toBe(404);
      const deleted = await call(mine, 'DELETE', `/api/v1/webhooks/${id}`);
      expect(deleted).toEqual({ status: 200, body: { status: 'ok', success: true } });
      expect((await call(mine, 'GET', '/api/v1/webhooks')).body.data).toEqual([]);
      expect((await call(mine, 'DELETE', `/api/v1/webhooks/${id}`)).status).toBe(404);
      expect(emu.webhooks().map((w) => w.ownerId)).toEqual([2]);
    });

    it('allows 40 webhooks per app user, refuses the 41st, and counts per user', async () => {
      const auth = tokenOf();
      const made = await Promise.all(Array.from({ length: 40 }, () => subscribe(auth, 'create.deal')));
      expect(made.every((r) => r.status === 201)).toBe(true);
      const over = await subscribe(auth, 'create.deal');
      expect(over.status).toBe(400);
      expect(over.body.error).toMatch(/40/);
      expect((await subscribe(tokenOf(ADMIN_APP.clientId, 2), 'create.deal')).status).toBe(201);
      await call(auth, 'DELETE', `/api/v1/webhooks/${made[0]!.body.data.id}`);
      expect((await subscribe(auth, 'create.deal')).status).toBe(201);
    });

    it('deletes the user’s app webhooks on uninstall and on refresh-token revoke, not on access-token revoke', async () => {
      const revokeForm = async (token: string) => {
        const basic = Buffer.from(`${ADMIN_APP.clientId}:${ADMIN_APP.clientSecret}`).toString('base64');
        const res = await request(`${emu.url}/oauth/revoke`, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }).toString(),
        });
        await res.body.dump();
        return res.statusCode;
      };
      const first = emu.grant({ clientId: ADMIN_APP.clientId, companyId: 1, userId: 1 });
      await subscribe(`Bearer ${first.accessToken}`, 'create.deal');
      await subscribe(tokenOf(ADMIN_APP.clientId, 2), 'create.deal');
      expect(await revokeForm(first.accessToken)).toBe(200);
      expect(emu.webhooks()).toHaveLength(2);
      expect(await revokeForm(first.refreshToken)).toBe(200);
      expect(emu.webhooks().map((w) => w.ownerId)).toEqual([2]);

      emu.registerApp({ ...ADMIN_APP, redirectUri: receiver.url });
      await emu.uninstall({ clientId: ADMIN_APP.clientId, companyId: 1, userId: 2 });
      expect(emu.webhooks()).toEqual([]);
    });

    it('removeWebhook() deletes one as Pipedrive would on its own: gone from the list, no more deliveries', async () => {
      const auth = tokenOf();
      const id = (await subscribe(auth, 'create.deal')).body.data.id as number;
      expect(emu.webhooks()[0]).toMatchObject({ id, httpAuthUser: 'pd-hook', type: 'application' });
      expect(emu.removeWebhook(id)).toBe(true);
      expect(emu.removeWebhook(id)).toBe(false);
      expect((await call(auth, 'GET', '/api/v1/webhooks')).body.data).toEqual([]);
      await call(auth, 'POST', '/api/v2/deals', { title: 'Nobody listens' });
      await emu.webhooksSettled();
      expect(receiver.deliveries).toEqual([]);
    });
  });

  describe('deliveries', () => {
    it('POSTs the v2 payload with Basic credentials on API create, change and delete', async () => {
      await start();
      const auth = tokenOf();
      const hook = (await subscribe(auth, '*.deal')).body.data;
      const created = (await call(auth, 'POST', '/api/v2/deals', { title: 'Big one', value: 100 })).body.data;
      await call(auth, 'PATCH', `/api/v2/deals/${created.id}`, { value: 250, title: 'Big one' });
      await call(auth, 'PATCH', `/api/v2/deals/${created.id}`, { title: 'Big one' }); // changes nothing: no event
      await call(auth, 'DELETE', `/api/v2/deals/${created.id}`);
      await emu.webhooksSettled();

      expect(receiver.received.map((r) => r.headers.authorization)).toEqual(
        Array(3).fill(`Basic ${Buffer.from('pd-hook:a-long-random-password').toString('base64')}`),
      );
      expect(receiver.received[0]!.headers['content-type']).toMatch(/^application\/json/);
      const [create, change, remove] = receiver.deliveries as [Json, Json, Json];
      expect(create.meta).toEqual({
        action: 'create',
        entity: 'deal',
        entity_id: String(created.id),
        company_id: '1',
        user_id: '1',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        correlation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        type: 'application',
        version: '2.0',
        webhook_id: String(hook.id),
        webhook_owner_id: '1',
        change_source: 'api',
        attempt: 1,
        is_bulk_edit: false,
        host: 'company1.pipedrive.com',
        permitted_user_ids: ['1'],
      });
      expect(create.data).toMatchObject({ id: created.id, title: 'Big one', value: 100, custom_fields: {} });
      expect(create.previous).toBeNull();
      expect(change.meta).toMatchObject({ action: 'change', entity_id: String(created.id) });
      expect(change.data).toMatchObject({ value: 250 });
      expect(change.previous).toEqual({ value: 100 });
      expect(remove.meta).toMatchObject({ action: 'delete' });
      expect(remove.data).toBeNull();
      expect(remove.previous).toMatchObject({ id: created.id, value: 250, title: 'Big one' });
      expect(new Set(receiver.deliveries.map((d) => d.meta.id)).size).toBe(3);
      expect(emu.webhookCounts).toMatchObject({ deliveries: 3, attempts: 3, succeeded: 3, failedAttempts: 0 });
    });

    it('sends only the events a webhook subscribed to, for every emulated v2 object', async () => {
      await start();
      const auth = tokenOf();
      await subscribe(auth, 'change.person');
      await subscribe(auth, 'create.*');
      const org = (await call(auth, 'POST', '/api/v2/organizations', { name: 'Acme' })).body.data;
      const person = (await call(auth, 'POST', '/api/v2/persons', { name: 'Ann', org_id: org.id })).body.data;
      await call(auth, 'PATCH', `/api/v2/persons/${person.id}`, { name: 'Ann B' });
      await call(auth, 'POST', '/api/v2/activities', { subject: 'Call' });
      await call(auth, 'POST', '/api/v2/products', { name: 'Widget' });
      const lead = (await call(auth, 'POST', '/api/v1/leads', { title: 'Lead', person_id: person.id })).body.data;
      await call(auth, 'POST', '/api/v1/notes', { content: 'Hi', person_id: person.id });
      await call(auth, 'POST', '/api/v2/pipelines', { name: 'Second' }); // no v2 webhook object
      await emu.webhooksSettled();
      const seen = receiver.deliveries.map((d) => `${d.meta.action}.${d.meta.entity}`).sort();
      expect(seen).toEqual(
        ['change.person', 'create.activity', 'create.lead', 'create.note', 'create.organization', 'create.person', 'create.product'].sort(),
      );
      expect(receiver.deliveries.find((d) => d.meta.entity === 'lead')!.meta.entity_id).toBe(lead.id);
    });

    it('keeps companies apart: a change reaches only its own company’s webhooks', async () => {
      await start();
      await subscribe(tokenOf(ADMIN_APP.clientId, 1, 2), '*.*');
      const own = await new Receiver().start();
      try {
        await call(tokenOf(), 'POST', '/api/v1/webhooks', {
          subscription_url: own.url,
          event_action: '*',
          event_object: '*',
          version: '2.0',
        });
        await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Company 1 only' });
        await emu.webhooksSettled();
        expect(receiver.deliveries).toEqual([]);
        expect(own.deliveries.map((d) => d.meta.company_id)).toEqual(['1']);
        expect(own.received[0]!.headers.authorization).toBeUndefined();
      } finally {
        await own.close();
      }
    });

    it('a user editing in the web UI fires change_source "app" with that user', async () => {
      await start();
      await subscribe(tokenOf(), '*.*');
      const deal = emu.changeInUi({ action: 'create', companyId: 1, userId: 7, resource: 'deals', fields: { title: 'From the UI' } })!;
      emu.changeInUi({ action: 'change', companyId: 1, userId: 7, resource: 'deals', id: deal.id, fields: { status: 'won' } });
      expect(() => emu.changeInUi({ action: 'change', companyId: 1, userId: 7, resource: 'deals', id: 999, fields: {} })).toThrow(
        /not found/,
      );
      await emu.webhooksSettled();
      expect(receiver.deliveries.map((d) => [d.meta.action, d.meta.change_source, d.meta.user_id])).toEqual([
        ['create', 'app', '7'],
        ['change', 'app', '7'],
      ]);
      expect(receiver.deliveries[1]!.previous).toEqual({ status: 'open' });
      expect(emu.records(1, 'deals')[0]).toMatchObject({ title: 'From the UI', status: 'won' });
    });

    it('retries at +3 s, +30 s and +150 s with the same meta.id until a 2xx', async () => {
      const clock = new ManualClock();
      await start({ clock });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = (n) => (n < 4 ? 500 : 204);
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Retry me' });
      await emu.webhooksIdle();
      expect(receiver.deliveries).toHaveLength(1);
      await clock.advance(2_999);
      await emu.webhooksIdle();
      expect(receiver.deliveries).toHaveLength(1);
      await clock.advance(1);
      await emu.webhooksIdle();
      expect(receiver.deliveries).toHaveLength(2);
      await clock.advance(30_000);
      await emu.webhooksIdle();
      expect(receiver.deliveries).toHaveLength(3);
      await clock.advance(150_000);
      await emu.webhooksSettled();
      expect(receiver.deliveries.map((d) => d.meta.attempt)).toEqual([1, 2, 3, 4]);
      expect(new Set(receiver.deliveries.map((d) => d.meta.id)).size).toBe(1);
      expect(emu.webhookCounts).toMatchObject({
        deliveries: 1,
        attempts: 4,
        failedAttempts: 3,
        firstTryFailures: 1,
        succeeded: 1,
        exhausted: 0,
      });
      expect(emu.webhookAttempts.map((a) => a.status)).toEqual([500, 500, 500, 204]);
    });

    it('counts an answer slower than 10 s as failed and gives up after the fourth attempt', async () => {
      const clock = new ManualClock();
      await start({ clock });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = (n) => (n === 1 ? 'hang' : 503);
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Slow' });
      await waitFor(() => receiver.deliveries.length === 1);
      await clock.advance(9_999);
      expect(emu.webhookCounts.failedAttempts).toBe(0);
      await clock.advance(1);
      await emu.webhooksIdle();
      expect(emu.webhookAttempts[0]!.status).toBe(0);
      for (const wait of [3_000, 30_000, 150_000]) {
        await clock.advance(wait);
        await emu.webhooksIdle();
      }
      await emu.webhooksSettled();
      expect(emu.webhookCounts).toMatchObject({ attempts: 4, failedAttempts: 4, succeeded: 0, exhausted: 1 });
    });

    it('a time scale makes the retry schedule fast on the real clock', async () => {
      await start({ webhooks: { timeScale: 0.001 } });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = (n) => (n < 3 ? 502 : 200);
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Fast' });
      await emu.webhooksSettled();
      expect(receiver.deliveries.map((d) => d.meta.attempt)).toEqual([1, 2, 3]);
      expect(emu.webhookCounts).toMatchObject({ succeeded: 1, failedAttempts: 2 });
    });

    it('does not follow a redirect: a 3xx answer is a failed attempt', async () => {
      await start({ webhooks: { timeScale: 0.001 } });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = (n) => (n === 1 ? 302 : 200);
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Moved' });
      await emu.webhooksSettled();
      expect(emu.webhookAttempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 302],
        [2, 200],
      ]);
      expect(emu.webhookCounts).toMatchObject({ firstTryFailures: 1, succeeded: 1 });
    });

    it('bans a webhook for 30 minutes after ten first-try failures; events meanwhile are lost', async () => {
      const clock = new ManualClock();
      await start({ clock });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = () => 500;
      const auth = tokenOf();
      for (let i = 1; i <= 10; i++) await call(auth, 'POST', '/api/v2/deals', { title: `Deal ${i}` });
      await emu.webhooksIdle();
      expect(emu.webhookCounts).toMatchObject({ firstTryFailures: 10, bans: 1 });
      expect(emu.webhooks()[0]!.bannedUntil).toBe(clock.now() + 30 * MINUTE);

      receiver.answer = () => 200;
      await call(auth, 'POST', '/api/v2/deals', { title: 'During the ban' });
      await clock.advance(3_000); // the ten retries come due during the ban: lost too
      await emu.webhooksSettled();
      expect(receiver.deliveries).toHaveLength(10);
      expect(emu.webhookCounts.lost).toBe(11);

      await clock.advance(30 * MINUTE);
      await call(auth, 'POST', '/api/v2/deals', { title: 'After the ban' });
      await emu.webhooksSettled();
      expect(receiver.deliveries.at(-1)!.data.title).toBe('After the ban');
      expect(emu.webhookCounts.succeeded).toBe(1);
    });

    it('deletes a webhook with no successful delivery for three days', async () => {
      const clock = new ManualClock();
      await start({ clock });
      await subscribe(tokenOf(), 'create.deal');
      receiver.answer = () => 500;
      const firstFailure = clock.now();
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'First failure' });
      await emu.webhooksIdle();
      for (const wait of [3_000, 30_000, 150_000]) {
        await clock.advance(wait);
        await emu.webhooksIdle();
      }
      await emu.webhooksSettled();
      await clock.advanceTo(firstFailure + 3 * 86_400_000 - 1);
      await call(tokenOf(), 'POST', '/api/v2/deals', { title: 'Not yet three days' });
      await emu.webhooksIdle();
      expect(emu.webhooks()).toHaveLength(1);

      await clock.advance(1);
      const auth = tokenOf();
      await call(auth, 'POST', '/api/v2/deals', { title: 'Three days on' });
      await emu.webhooksIdle();
      expect(emu.webhooks()).toEqual([]);
      expect(emu.webhookCounts.expiredWebhooks).toBe(1);
      expect((await call(auth, 'GET', '/api/v1/webhooks')).body.data).toEqual([]);
      await clock.advance(3_000); // the pending retries of the deleted webhook are dropped
      await emu.webhooksIdle();
      expect(receiver.deliveries).toHaveLength(6);
      expect(emu.webhookCounts.lost).toBe(1);
    });
  });
});

/** Polls a condition on the event loop; fails the test instead of waiting forever. */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
