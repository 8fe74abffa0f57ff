import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipedriveClient, WEBHOOK_DEFAULTS } from '../src/index.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { createPostgresDatabase } from './support/postgres.js';
import { deliver, startWebhookApp, v2Delivery, type WebhookApp, type WebhookTestDatabase } from './support/webhook-app.js';
import { advanceWhileWaiting, eventually } from './support/waiting.js';

/**
 * Two instances of an app on one database (a fresh PostgreSQL database, or one SQLite file in WAL mode
 * that each instance opens with its own connection): duplicates delivered to both at the same moment
 * are handled once, and an instance that stops mid-handling loses its claim to the other when the lease
 * runs out.
 */
const CLIENT = { clientId: 'wh-instances', clientSecret: 'wh-instances-secret-0123456789' };
const COMPANY = 9401;
const LEASE_MS = 5_000;

const DATABASES: { name: string; open: () => Promise<{ database: WebhookTestDatabase; drop: () => Promise<void> }> }[] = [
  {
    name: 'one PostgreSQL database',
    open: async () => {
      const db = await createPostgresDatabase();
      return { database: { type: 'postgres', url: db.url }, drop: () => db.drop() };
    },
  },
  {
    name: 'one SQLite file',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'npd-wh-instances-'));
      return {
        database: { type: 'sqlite', path: join(dir, 'shared.sqlite') },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

describe.each(DATABASES)('webhooks on two instances sharing $name', ({ open }) => {
  let emu: PipedriveEmulator;
  let db: Awaited<ReturnType<typeof open>>;
  let a: WebhookApp;
  let b: WebhookApp;
  const clockA = new ManualClock(Date.now());
  const clockB = new ManualClock(Date.now());
  let creds: { user: string; password: string };
  let connectionId: string;

  beforeAll(async () => {
    db = await open();
    emu = await PipedriveEmulator.start();
    emu.registerApp({ ...CLIENT, redirectUri: 'http://127.0.0.1/cb', scope: 'base,deals:full,admin' });
    const common = {
      database: db.database,
      emulator: emu,
      client: CLIENT,
      encryptionKey: randomBytes(32).toString('base64'),
    };
    const webhooks = { leaseMs: LEASE_MS, pollIntervalMs: 20 };
    a = await startWebhookApp({ ...common, clock: clockA, webhooks });
    // One app behind one public URL: B registers and recognises webhooks at A's (the balancer's) URL.
    b = await startWebhookApp({ ...common, clock: clockB, webhooks: { ...webhooks, subscriptionUrl: a.receiverUrl } });
    const connection = await a.connect({ companyId: COMPANY, userId: 1 });
    connectionId = connection.id;
    await eventually(async () => expect((await a.webhooks.status(connection.id)).state).toBe('registered'));
    creds = await credentialsOf(a, connection.id);
  });

  async function credentialsOf(app: WebhookApp, connectionId: string): Promise<{ user: string; password: string }> {
    const [hook] = await app.app
      .get(PipedriveClient)
      .forConnection(connectionId)
      .get<{ http_auth_user: string; http_auth_password: string }[]>('/v1/webhooks');
    return { user: hook!.http_auth_user, password: hook!.http_auth_password };
  }
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await emu?.close();
    await db?.drop();
  });

  it('handles every event once when both instances receive each one at the same moment', async () => {
    const bodies = Array.from({ length: 200 }, (_, i) => v2Delivery({ companyId: COMPANY, entityId: 1_000 + (i % 37) }));
    const answers = await Promise.all(bodies.flatMap((body) => [deliver(a.receiverUrl, creds, body), deliver(b.receiverUrl, creds, body)]));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const handled = () => [...a.recorder.handled, ...b.recorder.handled];
    await eventually(() => expect(handled()).toHaveLength(200));
    expect(new Set(handled().map((h) => h.id)).size).toBe(200);
    expect(a.recorder.handled.length).toBeGreaterThan(0);
    expect(b.recorder.handled.length).toBeGreaterThan(0);
    await eventually(async () => {
      const rows: { status: string; n: string }[] = await a.dataSource.query(
        'SELECT status, COUNT(*) AS n FROM pipedrive_webhook_events GROUP BY status',
      );
      expect(rows.map((r) => [r.status, Number(r.n)])).toEqual([['done', 200]]);
    });
    expect(handled()).toHaveLength(200);
  });

  it('takes over the claim of an instance that stopped mid-handling once its lease expires', async () => {
    let hang!: () => void;
    const stuck = new Promise<void>((resolve) => (hang = resolve));
    let calls = 0;
    // Whichever instance claims it first freezes inside the handler, as a crashed process would.
    a.recorder.behaviour = b.recorder.behaviour = () => (++calls === 1 ? stuck : undefined);
    const body = v2Delivery({ companyId: COMPANY, entityId: 77 });
    expect((await deliver(a.receiverUrl, creds, body)).status).toBe(200);
    const id = (body.meta as { id: string }).id;
    const holder = await eventually(() => {
      const found = [a, b].find((app) => app.recorder.handled.some((h) => h.id === id));
      if (!found) throw new Error('not claimed yet');
      return found;
    });
    const [other, otherClock] = holder === a ? [b, clockB] : [a, clockA];
    // The holder's clock stands still, so its lease renewals cannot move the lease past the other's now.
    await otherClock.advance(LEASE_MS + 1);
    await eventually(() => expect(other.recorder.handled.map((h) => h.id)).toContain(id));
    await eventually(async () =>
      expect((await other.webhooks.events({ limit: 500 })).find((e) => e.id === id)).toMatchObject({ status: 'done', attempts: 2 }),
    );
    expect(calls).toBe(2);
    hang();
  });

  it('reconciling the same connection on both instances at once re-creates a missing webhook once', async () => {
    const [gone] = emu.webhooks(COMPANY);
    expect(emu.removeWebhook(gone!.id)).toBe(true); // as Pipedrive does after three days of failed deliveries
    // Scheduled reconciliation on every instance: one does the connection, the other skips it.
    const reports = (await Promise.all([a.webhooks.reconcile(), b.webhooks.reconcile()])).flat();
    expect(emu.webhooks(COMPANY)).toHaveLength(1);
    expect(reports.flatMap((r) => r.created)).toEqual(['*.deal']);
    // Asked for explicitly on both (as on connect): the second waits for the first, then finds it in place.
    expect(emu.removeWebhook(emu.webhooks(COMPANY)[0]!.id)).toBe(true);
    const explicit = await Promise.all([
      advanceWhileWaiting(clockA, a.webhooks.reconcile(connectionId), 250),
      advanceWhileWaiting(clockB, b.webhooks.reconcile(connectionId), 250),
    ]);
    expect(emu.webhooks(COMPANY)).toHaveLength(1);
    expect(explicit.flatMap((r) => r.created)).toEqual(['*.deal']);
    expect(explicit.flatMap((r) => r.kept)).toEqual(['*.deal']);
    // The surviving webhook's credentials are the ones the instances accept.
    const live = await credentialsOf(a, connectionId);
    creds = live;
    expect((await deliver(b.receiverUrl, live, v2Delivery({ companyId: COMPANY }))).status).toBe(200);
  });

  it('after an uninstall on one instance, the other refuses its deliveries once credentialsCacheMs has passed', async () => {
    const user = { companyId: COMPANY + 1, userId: 2 };
    const connection = await a.connect(user);
    await eventually(async () => expect((await a.webhooks.status(connection.id)).state).toBe('registered'));
    const own = await credentialsOf(a, connection.id);
    const delivery = () => v2Delivery({ companyId: user.companyId });
    expect((await deliver(b.receiverUrl, own, delivery())).status).toBe(200);
    await a.tokens.uninstall(user.companyId, user.userId);
    expect((await deliver(a.receiverUrl, own, delivery())).status).toBe(401);
    // B read the credentials before the uninstall and may trust them for credentialsCacheMs, no longer.
    await clockB.advance(WEBHOOK_DEFAULTS.credentialsCacheMs);
    expect((await deliver(b.receiverUrl, own, delivery())).status).toBe(401);
  });
});
