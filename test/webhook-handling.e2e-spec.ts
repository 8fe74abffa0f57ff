import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PipedriveClient, type PipedriveWebhooksModuleOptions } from '../src/index.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { deliver, startWebhookApp, v2Delivery, type WebhookApp } from './support/webhook-app.js';
import { eventually } from './support/waiting.js';

/**
 * What happens after the receiver answered: per-record ordering, retries with back-off on the injected
 * clock, dead letters and re-runs, and events left pending across a restart. SQLite file, ManualClock.
 */
const CLIENT = { clientId: 'wh-handling', clientSecret: 'wh-handling-secret-0123456789' };

describe('webhook handling', () => {
  let emu: PipedriveEmulator;
  let dir: string;
  const encryptionKey = randomBytes(32).toString('base64');
  const apps: WebhookApp[] = [];
  let nextCompany = 9300;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-wh-handle-'));
    emu = await PipedriveEmulator.start();
    emu.registerApp({ ...CLIENT, redirectUri: 'http://127.0.0.1/cb', scope: 'base,deals:full,admin' });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  interface World {
    app: WebhookApp;
    clock: ManualClock;
    companyId: number;
    creds: { user: string; password: string };
    send(fields: Partial<Parameters<typeof v2Delivery>[0]>): Promise<string>;
    row(id: string): Promise<{ status: string; attempts: number; lastError: string | null }>;
  }

  async function world(
    webhooks: Partial<PipedriveWebhooksModuleOptions> = {},
    path = join(dir, `${randomBytes(4).toString('hex')}.sqlite`),
    clock = new ManualClock(Date.now()),
  ): Promise<World> {
    const app = await startWebhookApp({
      database: { type: 'sqlite', path },
      emulator: emu,
      client: CLIENT,
      encryptionKey,
      clock,
      webhooks: { pollIntervalMs: 20, ...webhooks },
    });
    apps.push(app);
    const companyId = nextCompany++;
    const connection = await app.connect({ companyId, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const [hook] = await app.app
      .get(PipedriveClient)
      .forConnection(connection.id)
      .get<{ http_auth_user: string; http_auth_password: string }[]>('/v1/webhooks');
    const creds = { user: hook!.http_auth_user, password: hook!.http_auth_password };
    return {
      app,
      clock,
      companyId,
      creds,
      async send(fields) {
        const body = v2Delivery({ companyId, ...fields });
        expect((await deliver(app.receiverUrl, creds, body)).status).toBe(200);
        return (body.meta as { id: string }).id;
      },
      async row(id) {
        const [row] = (await app.webhooks.events({ limit: 1000 })).filter((e) => e.id === id);
        if (!row) throw new Error(`event ${id} not stored`);
        return row;
      },
    };
  }

  it('handles the events of one record one at a time in meta.timestamp order, other records meanwhile', async () => {
    const w = await world();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    w.app.recorder.behaviour = (event) =>
      event.meta.entity_id === '5' && event.meta.timestamp === '2026-03-01T10:00:00.000Z' ? gate : undefined;
    await w.send({ entityId: 5, timestamp: '2026-03-01T10:00:00.000Z', id: 'first' });
    await eventually(() => expect(w.app.recorder.handled.map((h) => h.id)).toEqual(['first']));
    // While "first" is being handled, three more arrive out of order, and one for another deal.
    await w.send({ entityId: 5, timestamp: '2026-03-01T10:00:03.000Z', id: 'third' });
    await w.send({ entityId: 5, timestamp: '2026-03-01T10:00:01.000Z', id: 'second' });
    await w.send({ entityId: 5, timestamp: String(Date.parse('2026-03-01T10:00:05.000Z') / 1000), id: 'fourth' }); // unix seconds
    await w.send({ entityId: 6, timestamp: '2026-03-01T09:00:00.000Z', id: 'other deal' });
    await eventually(() => expect(w.app.recorder.handled.map((h) => h.id)).toContain('other deal'));
    expect(w.app.recorder.handled.map((h) => h.id)).toEqual(['first', 'other deal']);
    open();
    await eventually(() => expect(w.app.recorder.handled).toHaveLength(5));
    const deal5 = w.app.recorder.handled.filter((h) => h.entityId === '5');
    expect(deal5.map((h) => h.id)).toEqual(['first', 'second', 'third', 'fourth']);
    expect(deal5.slice(1).every((h) => h.running === 1)).toBe(true);
  });

  it('handles every event of a burst once its deliveries are stored, with no poll to fall back on', async () => {
    // On SQLite, claims wait while deliveries are being written (answers first); the end of the writes
    // must wake handling, since this poll would not come for ten minutes.
    const w = await world({ pollIntervalMs: 600_000 });
    const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => w.send({ entityId: 1 + (i % 40), id: `burst-${i}` })));
    await eventually(() => expect(w.app.recorder.handled).toHaveLength(300));
    expect(new Set(w.app.recorder.handled.map((h) => h.id))).toEqual(new Set(ids));
  });

  it('retries a throwing handler with growing back-off on the clock, recorded in the row', async () => {
    const w = await world({ backoffMs: 1_000, backoffFactor: 4, maxAttempts: 5 });
    w.app.recorder.behaviour = (event) => {
      if (event.attempt < 3) throw new Error(`flaky ${event.attempt}`);
    };
    const id = await w.send({ entityId: 11 });
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: flaky 1' }));
    const [first] = await w.app.dataSource.query('SELECT next_attempt_at, received_at FROM pipedrive_webhook_events');
    expect(Number(first.next_attempt_at) - w.clock.now()).toBe(1_000);
    await w.clock.advance(999);
    expect(w.app.recorder.handled).toHaveLength(1);
    await w.clock.advance(1);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ attempts: 2, lastError: 'Error: flaky 2' }));
    const [second] = await w.app.dataSource.query('SELECT next_attempt_at FROM pipedrive_webhook_events');
    expect(Number(second.next_attempt_at) - w.clock.now()).toBe(4_000);
    await w.clock.advance(4_000);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'done', attempts: 3, lastError: null }));
    expect(w.app.recorder.handled.map((h) => h.attempt)).toEqual([1, 2, 3]);
  });

  it('fails an attempt whose handler never settles after handlerTimeoutMs on the clock, then retries it', async () => {
    const w = await world({ handlerTimeoutMs: 5_000, backoffMs: 1_000, maxAttempts: 3 });
    const signals: AbortSignal[] = [];
    w.app.recorder.behaviour = (event) => {
      signals.push(event.signal);
      return event.attempt === 1 ? new Promise(() => undefined) : undefined;
    };
    const id = await w.send({ entityId: 13 });
    await eventually(() => expect(w.app.recorder.handled).toHaveLength(1));
    await w.clock.advance(4_999);
    expect(await w.row(id)).toMatchObject({ status: 'pending', attempts: 1, lastError: null });
    expect(signals[0]!.aborted).toBe(false);
    await w.clock.advance(1);
    await eventually(async () =>
      expect(await w.row(id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: expect.stringMatching(/^PipedriveWebhookHandlerTimeoutError: /),
      }),
    );
    expect(signals[0]!.aborted).toBe(true);
    // The slot is free and the claim given back: the retry comes after the back-off like any failure.
    await w.clock.advance(1_000);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'done', attempts: 2, lastError: null }));
    expect(signals[1]!.aborted).toBe(false);
  });

  it('dead-letters an event whose handler never settles once its attempts are used up', async () => {
    const w = await world({ handlerTimeoutMs: 1_000, backoffMs: 10, maxAttempts: 2 });
    w.app.recorder.behaviour = () => new Promise(() => undefined);
    const id = await w.send({ entityId: 14 });
    await eventually(() => expect(w.app.recorder.handled).toHaveLength(1));
    await w.clock.advance(1_000);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'pending', attempts: 1 }));
    await w.clock.advance(10);
    await eventually(() => expect(w.app.recorder.handled).toHaveLength(2));
    await w.clock.advance(1_000);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'dead', attempts: 2 }));
  });

  it('dead-letters after the configured attempts with a log line, and re-runs on request', async () => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    const w = await world({ backoffMs: 10, maxAttempts: 3 });
    let broken = true;
    w.app.recorder.behaviour = () => {
      if (broken) throw new TypeError(`cannot read ${w.creds.password}`);
    };
    const id = await w.send({ entityId: 12 });
    for (let attempt = 1; attempt < 3; attempt++) {
      // Settled: the attempt is counted and the lease given back with the retry time.
      await eventually(async () =>
        expect(await w.app.dataSource.query('SELECT attempts, lease_owner FROM pipedrive_webhook_events')).toEqual([
          { attempts: attempt, lease_owner: null },
        ]),
      );
      await w.clock.advance(10 * 4 ** (attempt - 1));
    }
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'dead', attempts: 3 }));
    expect(await w.app.webhooks.deadLetters()).toMatchObject([{ id, entity: 'deal', entityId: '12', status: 'dead' }]);
    const line = errors.mock.calls.map(([m]) => String(m)).find((m) => m.includes('dead-lettered'));
    expect(line).toContain(id);
    expect(line).toContain('TypeError');
    expect(line).not.toContain(w.creds.password);
    broken = false;
    expect(await w.app.webhooks.rerun({ eventId: id })).toBe(1);
    await eventually(async () => expect(await w.row(id)).toMatchObject({ status: 'done', attempts: 1 }));
    expect(await w.app.webhooks.deadLetters()).toEqual([]);
  });

  it('handles after a restart the events that were still pending when the app stopped', async () => {
    const path = join(dir, 'restart.sqlite');
    const clock = new ManualClock(Date.now());
    const before = await world({ backoffMs: 60_000 }, path, clock);
    before.app.recorder.behaviour = () => {
      throw new Error('down');
    };
    const ids = [await before.send({ entityId: 21 }), await before.send({ entityId: 22 }), await before.send({ entityId: 23 })];
    await eventually(async () => {
      for (const id of ids) expect((await before.row(id)).attempts).toBe(1);
    });
    await before.app.close();
    apps.splice(apps.indexOf(before.app), 1);
    await clock.advance(60_000);
    const after = await startWebhookApp({
      database: { type: 'sqlite', path },
      emulator: emu,
      client: CLIENT,
      encryptionKey,
      clock,
      webhooks: { pollIntervalMs: 20 },
    });
    apps.push(after);
    await eventually(() => expect(after.recorder.handled.map((h) => h.id).sort()).toEqual([...ids].sort()));
    const rows = await after.webhooks.events();
    expect(rows.map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });
});
