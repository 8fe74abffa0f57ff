import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PipedriveClient } from '../src/index.js';
import { PipedriveEmulator } from '../src/testing/index.js';
import { deliver, startWebhookApp, v2Delivery, type WebhookApp } from './support/webhook-app.js';
import { eventually } from './support/waiting.js';

/** Every way the receiver refuses a delivery, and what it stores when it accepts one. */
const CLIENT = { clientId: 'wh-receiver', clientSecret: 'wh-receiver-secret-0123456789' };
const COMPANY = 9201;
const MAX_BODY = 4_096;

describe('webhook receiver', () => {
  let emu: PipedriveEmulator;
  let dir: string;
  let app: WebhookApp;
  let creds: { user: string; password: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-wh-recv-'));
    emu = await PipedriveEmulator.start();
    emu.registerApp({ ...CLIENT, redirectUri: 'http://127.0.0.1/cb', scope: 'base,deals:full,admin' });
    app = await startWebhookApp({
      database: { type: 'sqlite', path: join(dir, 'db.sqlite') },
      emulator: emu,
      client: CLIENT,
      encryptionKey: randomBytes(32).toString('base64'),
      webhooks: { events: ['*.deal'], maxBodyBytes: MAX_BODY },
    });
    const connection = await app.connect({ companyId: COMPANY, userId: 1 });
    await eventually(async () => expect((await app.webhooks.status(connection.id)).state).toBe('registered'));
    const [hook] = await app.app
      .get(PipedriveClient)
      .forConnection(connection.id)
      .get<{ http_auth_user: string; http_auth_password: string }[]>('/v1/webhooks');
    creds = { user: hook!.http_auth_user, password: hook!.http_auth_password };
  });
  beforeEach(async () => {
    await app.dataSource.query('DELETE FROM pipedrive_webhook_events');
    app.recorder.handled.length = 0;
  });
  afterAll(async () => {
    await app.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async () => Number((await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_webhook_events'))[0].n);

  it('accepts a v2 delivery with the right credentials: stored, answered 200, handled', async () => {
    const body = v2Delivery({ companyId: COMPANY, entityId: 7 });
    expect(await deliver(app.receiverUrl, creds, body)).toEqual({ status: 200, body: { received: true } });
    expect(await stored()).toBe(1);
    await eventually(() => expect(app.recorder.handled).toMatchObject([{ id: (body.meta as { id: string }).id, entityId: '7' }]));
  });

  it.each([
    ['no Authorization header', undefined, undefined],
    ['a wrong password', 'wrong', undefined],
    ['an unknown webhook', undefined, randomUUID()],
  ])('refuses %s with 401 and stores nothing', async (_name, password, user) => {
    const auth = _name === 'no Authorization header' ? undefined : { user: user ?? creds.user, password: password ?? creds.password };
    const answer = await deliver(app.receiverUrl, auth, v2Delivery({ companyId: COMPANY }));
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_credentials' } });
    expect(JSON.stringify(answer.body)).not.toContain(creds.password);
    expect(await stored()).toBe(0);
  });

  it('refuses a Bearer or garbled Authorization header with 401', async () => {
    for (const authorization of ['Bearer abc', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      expect((await deliver(app.receiverUrl, undefined, v2Delivery({ companyId: COMPANY }), { authorization })).status).toBe(401);
    }
    expect(await stored()).toBe(0);
  });

  it('answers 401 before reading the body: a request whose body never ends still gets its answer', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(app.receiverUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${creds.user}:wrong`).toString('base64')}`,
          'content-length': String(MAX_BODY - 1),
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.write('{"meta":'); // and nothing more
    });
    expect(status).toBe(401);
  });

  it('refuses a body over the size limit with 413, declared or streamed', async () => {
    const big = JSON.stringify({ ...v2Delivery({ companyId: COMPANY }), padding: 'x'.repeat(MAX_BODY) });
    expect(await deliver(app.receiverUrl, creds, big)).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(app.receiverUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`,
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(big);
    });
    expect(streamed).toBe(413);
    expect(await stored()).toBe(0);
  });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    expect(await deliver(app.receiverUrl, creds, '{"meta": {')).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    expect(await stored()).toBe(0);
  });

  it.each([
    [
      'a v1 delivery',
      {
        v: 1,
        event: 'updated.deal',
        meta: { v: 1, action: 'updated', object: 'deal', id: 5, company_id: COMPANY },
        current: {},
        previous: {},
      },
    ],
    ['no meta.id', { meta: { ...(v2Delivery({ companyId: COMPANY }).meta as object), id: undefined } }],
    ['an unknown entity', { meta: { ...(v2Delivery({ companyId: COMPANY }).meta as object), entity: 'pipeline' } }],
    ['an unreadable timestamp', { meta: { ...(v2Delivery({ companyId: COMPANY }).meta as object), timestamp: 'yesterday' } }],
    ['a JSON array', []],
  ])('refuses %s with 400 not_a_v2_delivery', async (_name, body) => {
    expect(await deliver(app.receiverUrl, creds, body)).toMatchObject({ status: 400, body: { error: 'not_a_v2_delivery' } });
    expect(await stored()).toBe(0);
  });

  it("refuses a delivery whose meta.company_id is not the credentials' company", async () => {
    expect(await deliver(app.receiverUrl, creds, v2Delivery({ companyId: COMPANY + 1 }))).toMatchObject({
      status: 403,
      body: { error: 'company_mismatch' },
    });
    expect(await stored()).toBe(0);
  });

  it('stores and handles a meta.id once, however often and concurrently it is delivered', async () => {
    const body = v2Delivery({ companyId: COMPANY, entityId: 8 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(app.receiverUrl, creds, body)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    // A Pipedrive retry reuses meta.id with a higher attempt.
    expect((await deliver(app.receiverUrl, creds, { ...body, meta: { ...(body.meta as object), attempt: 2 } })).status).toBe(200);
    expect(await stored()).toBe(1);
    await eventually(() => expect(app.recorder.handled).toHaveLength(1));
    const rows = await app.webhooks.events();
    expect(rows).toMatchObject([{ status: 'done', entityId: '8' }]);
    expect(app.recorder.handled).toHaveLength(1);
  });
});
