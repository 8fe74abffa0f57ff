import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_WEBHOOKS_PER_USER, PipedriveClient, PipedriveWebhookLimitError } from '../src/index.js';
import { PipedriveEmulator } from '../src/testing/index.js';
import { deliver, startWebhookApp, v2Delivery, type WebhookApp } from './support/webhook-app.js';
import { eventually } from './support/waiting.js';

/**
 * Registration of app webhooks against the emulator's POST/GET/DELETE /api/v1/webhooks, and real
 * deliveries from it to the module's receiver, over HTTP, on a SQLite file.
 */
const ADMIN = { clientId: 'wh-admin', clientSecret: 'wh-admin-secret-0123456789' };
const PLAIN = { clientId: 'wh-plain', clientSecret: 'wh-plain-secret-0123456789' };

interface ListedWebhook {
  id: number;
  event_action: string;
  event_object: string;
  subscription_url: string;
  version: string;
  http_auth_user: string | null;
  http_auth_password: string | null;
}

describe('webhook registration', () => {
  let emu: PipedriveEmulator;
  let dir: string;
  const apps: WebhookApp[] = [];
  const encryptionKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-wh-reg-'));
    emu = await PipedriveEmulator.start({ webhooks: { timeScale: 0.001 } });
    emu.registerApp({ ...ADMIN, redirectUri: 'http://127.0.0.1/cb', scope: 'base,deals:full,admin' });
    emu.registerApp({ ...PLAIN, redirectUri: 'http://127.0.0.1/cb', scope: 'base,deals:full' });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(client = ADMIN, events = ['*.deal', 'change.person']): Promise<WebhookApp> {
    const app = await startWebhookApp({
      database: { type: 'sqlite', path: join(dir, `${randomBytes(4).toString('hex')}.sqlite`) },
      emulator: emu,
      client,
      encryptionKey,
      webhooks: { events },
    });
    apps.push(app);
    return app;
  }

  const listed = (app: WebhookApp, connectionId: string) =>
    app.app.get(PipedriveClient).forConnection(connectionId).get<ListedWebhook[]>('/v1/webhooks');

  it('creates one v2 webhook per event with its own strong credentials, stored only hashed', async () => {
    const app = await start();
    const connection = await app.connect({ companyId: 9101, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const hooks = await listed(app, connection.id);
    expect(hooks.map((h) => `${h.event_action}.${h.event_object}`).sort()).toEqual(['*.deal', 'change.person']);
    for (const hook of hooks) {
      expect(hook).toMatchObject({ version: '2.0', subscription_url: app.receiverUrl });
      expect(hook.http_auth_password).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    }
    expect(hooks[0]!.http_auth_password).not.toBe(hooks[1]!.http_auth_password);
    const rows: { password_hash: string }[] = await app.dataSource.query('SELECT * FROM pipedrive_webhooks');
    const dump = JSON.stringify(rows);
    for (const hook of hooks) expect(dump).not.toContain(hook.http_auth_password);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.password_hash))).toBe(true);
  });

  it('delivers real events from Pipedrive to the handler: API writes and UI edits', async () => {
    const app = await start();
    const connection = await app.connect({ companyId: 9102, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const deal = await app.app.get(PipedriveClient).forConnection(connection.id).deals.create({ title: 'From the API' });
    emu.changeInUi({
      action: 'change',
      companyId: 9102,
      userId: 1,
      resource: 'deals',
      id: deal.id,
      fields: { title: 'Renamed in Pipedrive' },
    });
    await eventually(() => expect(app.recorder.handled).toHaveLength(2));
    expect(
      app.recorder.handled.map(({ action, entity, entityId, changeSource, connectionId }) => ({
        action,
        entity,
        entityId,
        changeSource,
        connectionId,
      })),
    ).toEqual([
      { action: 'create', entity: 'deal', entityId: String(deal.id), changeSource: 'api', connectionId: connection.id },
      { action: 'change', entity: 'deal', entityId: String(deal.id), changeSource: 'app', connectionId: connection.id },
    ]);
    expect(emu.webhookCounts).toMatchObject({ succeeded: 2, failedAttempts: 0 });
  });

  it('reconnecting keeps the webhooks it has instead of creating duplicates', async () => {
    const app = await start();
    const user = { companyId: 9103, userId: 1 };
    const connection = await app.connect(user);
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const before = (await listed(app, connection.id)).map((h) => h.id).sort();
    await app.connect(user); // reauthorized
    const report = await app.webhooks.reconcile(connection.id);
    expect(report).toMatchObject({ created: [], deleted: [], failed: [] });
    expect(report.kept.sort()).toEqual(['*.deal', 'change.person']);
    expect((await listed(app, connection.id)).map((h) => h.id).sort()).toEqual(before);
  });

  it('without the admin scope registers nothing, warns once and says so in the status', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const app = await start(PLAIN);
    emu.resetCounts();
    const connection = await app.connect({ companyId: 9104, userId: 1 });
    await eventually(() => expect(warn.mock.calls.some(([m]) => /no "admin" scope/.test(String(m)))).toBe(true));
    expect(await app.webhooks.status(connection.id)).toMatchObject({ state: 'admin_scope_missing', webhooks: [] });
    expect(emu.webhooks(9104)).toEqual([]);
    expect(warn.mock.calls.filter(([m]) => /admin/.test(String(m)))).toHaveLength(1);
    expect(emu.requests.filter((r) => r.path.startsWith('/api/v1/webhooks'))).toEqual([]);
  });

  it('reconciliation re-creates a webhook Pipedrive deleted and reports it', async () => {
    const app = await start();
    const connection = await app.connect({ companyId: 9105, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const gone = (await listed(app, connection.id)).find((h) => h.event_object === 'person')!;
    expect(emu.removeWebhook(gone.id)).toBe(true); // as Pipedrive does after three days of failed deliveries
    const report = await app.webhooks.reconcile(connection.id);
    expect(report).toMatchObject({ outcome: 'registered', created: ['change.person'], kept: ['*.deal'], failed: [] });
    const after = await listed(app, connection.id);
    expect(after).toHaveLength(2);
    expect(after.find((h) => h.event_object === 'person')!.id).not.toBe(gone.id);
    // The old credentials of the deleted webhook no longer open the receiver.
    const old = { user: gone.http_auth_user!, password: gone.http_auth_password! };
    expect((await deliver(app.receiverUrl, old, v2Delivery({ companyId: 9105 }))).status).toBe(401);
  });

  it('disconnect deletes the webhooks before the tokens are revoked, and their deliveries are refused', async () => {
    const app = await start();
    const connection = await app.connect({ companyId: 9106, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const hooks = await listed(app, connection.id);
    emu.resetCounts();
    await app.tokens.disconnect(connection.id);
    expect(emu.webhooks(9106)).toEqual([]);
    const order = emu.requests.map((r) => `${r.method} ${r.path}`).filter((r) => /webhooks|revoke/.test(r));
    expect(order).toEqual([...hooks.map(() => expect.stringMatching(/^DELETE \/api\/v1\/webhooks\/\d+$/)), 'POST /oauth/revoke']);
    const creds = { user: hooks[0]!.http_auth_user!, password: hooks[0]!.http_auth_password! };
    expect((await deliver(app.receiverUrl, creds, v2Delivery({ companyId: 9106 }))).status).toBe(401);
    expect((await app.webhooks.status(connection.id)).state).toBe('revoked');
  });

  it('uninstall deletes nothing itself but stops accepting the deliveries', async () => {
    const app = await start();
    const connection = await app.connect({ companyId: 9107, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const hook = (await listed(app, connection.id))[0]!;
    const creds = { user: hook.http_auth_user!, password: hook.http_auth_password! };
    expect((await deliver(app.receiverUrl, creds, v2Delivery({ companyId: 9107 }))).status).toBe(200);
    emu.resetCounts();
    await app.tokens.uninstall(9107, 1);
    expect(emu.requests.filter((r) => r.path.startsWith('/api/v1/webhooks'))).toEqual([]);
    expect((await deliver(app.receiverUrl, creds, v2Delivery({ companyId: 9107 }))).status).toBe(401);
  });

  it(`a user at Pipedrive's limit of ${MAX_WEBHOOKS_PER_USER} gets a typed error and a log line, and the install still succeeds`, async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const app = await start(ADMIN, ['create.deal', 'change.deal']);
    const user = { companyId: 9108, userId: 1 };
    // Another integration of the same app user already holds 39 webhooks.
    const grant = emu.grant({ clientId: ADMIN.clientId, ...user });
    for (let i = 0; i < MAX_WEBHOOKS_PER_USER - 1; i++) {
      const response = await fetch(`${grant.apiDomain}/api/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${grant.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          subscription_url: `https://elsewhere.example.com/${i}`,
          event_action: '*',
          event_object: 'note',
          version: '2.0',
        }),
      });
      expect(response.status).toBe(201);
    }
    const connection = await app.connect(user);
    expect(connection.status).toBe('active');
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('partial'));
    const report = await app.webhooks.reconcile(connection.id);
    expect(report.kept).toEqual(['create.deal']);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.error).toBeInstanceOf(PipedriveWebhookLimitError);
    expect(report.failed[0]!.error.details).toMatchObject({ connectionId: connection.id, event: 'change.deal' });
    expect(warn.mock.calls.some(([m]) => /maximum of 40/.test(String(m)))).toBe(true);
    expect(emu.webhooks(9108)).toHaveLength(MAX_WEBHOOKS_PER_USER);
  });
});
