import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../src/app/app.module.js';
import { loadAppConfig } from '../src/app/config/app-config.js';
import { configureApp } from '../src/app/configure-app.js';
import { SANDBOX_EMULATOR } from '../src/app/sandbox/sandbox.module.js';
import type { PipedriveEmulator } from '../src/testing/index.js';
import { connectAs, send } from './support/browser-flow.js';
import { freePort } from './support/free-port.js';
import type { ReferenceApp } from './support/reference-app.js';
import { eventually } from './support/waiting.js';

/**
 * The reference app in sandbox mode, offline, as `npm start` runs it with nothing set: connect,
 * create a deal, and the emulator's webhook delivery shows up in /pipedrive/webhook-events.
 */
describe('reference app webhooks (sandbox)', () => {
  let dir: string;
  let app: INestApplication;
  let handle: ReferenceApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npd-wh-sandbox-'));
    const port = await freePort();
    const env = { NODE_ENV: 'development', PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` };
    app = configureApp(await NestFactory.create(AppModule.forRoot(env), { logger: ['error'] }));
    await app.listen(port); // every interface: the sandbox's URLs say localhost
    handle = { url: `http://127.0.0.1:${port}`, emulator: app.get<PipedriveEmulator>(SANDBOX_EMULATOR) } as ReferenceApp;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes to *.deal by default in the sandbox and to nothing outside it unless told', () => {
    const base = {
      PIPEDRIVE_CLIENT_ID: 'id',
      PIPEDRIVE_CLIENT_SECRET: 's',
      PIPEDRIVE_REDIRECT_URI: 'https://app.example.com/auth/pipedrive/callback',
      PIPEDRIVE_ENCRYPTION_KEY: 'k',
      SESSION_SECRET: 's',
    };
    expect(loadAppConfig({}).webhooks.events).toEqual(['*.deal']);
    expect(loadAppConfig(base).webhooks).toEqual({ events: [], subscriptionUrl: 'https://app.example.com/webhooks/pipedrive' });
    expect(
      loadAppConfig({ ...base, PIPEDRIVE_WEBHOOK_EVENTS: 'change.deal, *.person', PIPEDRIVE_WEBHOOK_URL: 'https://hooks.example.com/in' })
        .webhooks,
    ).toEqual({
      events: ['change.deal', '*.person'],
      subscriptionUrl: 'https://hooks.example.com/in',
    });
  });

  it('shows the create.deal event of a deal created through the app, newest first, each event once', async () => {
    const { session } = await connectAs(handle, 7001, 1);
    const headers = { cookie: session, 'content-type': 'application/json' };
    // Registration runs right after the callback answered; a person takes longer to click than it does.
    await eventually(() => expect(handle.emulator.webhooks(7001)).toHaveLength(1));
    const first = await send(`${handle.url}/pipedrive/deals`, { method: 'POST', headers, body: JSON.stringify({ title: 'Webhook one' }) });
    expect(first.status).toBe(201);
    await eventually(async () => expect((await send(`${handle.url}/pipedrive/webhook-events`, { headers })).json).toHaveLength(1));
    const second = await send(`${handle.url}/pipedrive/deals`, { method: 'POST', headers, body: JSON.stringify({ title: 'Webhook two' }) });
    const events = await eventually(async () => {
      const answer = await send(`${handle.url}/pipedrive/webhook-events`, { headers });
      expect(answer.json).toHaveLength(2);
      return answer.json as { id: string }[];
    });
    expect(events).toEqual([
      { id: expect.any(String), action: 'create', entity: 'deal', entityId: String(second.json.id), changeSource: 'api' },
      { id: expect.any(String), action: 'create', entity: 'deal', entityId: String(first.json.id), changeSource: 'api' },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('requires a session', async () => {
    expect((await send(`${handle.url}/pipedrive/webhook-events`)).status).toBe(401);
  });
});
