import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import { AppModule } from '../src/app/app.module.js';
import { configureApp } from '../src/app/configure-app.js';
import { SANDBOX_EMULATOR } from '../src/app/sandbox/sandbox.module.js';
import type { PipedriveEmulator } from '../src/testing/index.js';
import { freePort } from './support/free-port.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/testing/manual-clock.js';
import { connectAs, send } from './support/browser-flow.js';
import { startClientFixture, type ClientFixture } from './support/client-fixture.js';
import { startReferenceApp, type ReferenceApp } from './support/reference-app.js';
import { waitFor } from './support/waiting.js';

/** Settles `call`, advancing the clock whenever the client sleeps on it and no request is in flight. */
async function drive<T>(clock: ManualClock, f: ClientFixture, call: Promise<T>): Promise<T> {
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    const idle = () => clock.pendingSleeps > 0 && !f.apiRequests().some((r) => r.status === 0);
    await waitFor(() => settled || idle(), 'the call neither settled nor waited on the clock');
    if (!settled) await clock.advance(100);
  }
  return call;
}

/** `name{labels} value` lines of one metric, as Prometheus scrapes them. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

function value(text: string, name: string, labels: Record<string, string>): number {
  const hit = samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}

describe('Prometheus metrics of the client and tokens (emulator, ManualClock, a real Registry)', () => {
  const clock = new ManualClock();
  const registry = new Registry();
  let f: ClientFixture;

  beforeAll(async () => {
    f = await startClientFixture({ metrics: { registry } }, clock);
    f.emu.seed(1, { deals: 20, leads: 2 });
  });
  afterAll(() => f?.close());

  it('counts calls by method, path template and status, 429s by kind, retries, waits, refreshes and cache hits', async () => {
    const api = f.client.forConnection(f.connectionId);
    await api.deals.get(17);
    await api.deals.get(18);
    const [lead] = f.emu.records(1, 'leads');
    await api.leads.get(lead!.id as string);
    await api.get('/v1/users/me');
    await expect(api.deals.get(999_999)).rejects.toThrow(/404/);
    f.emu.rateLimitNextApi(1);
    await drive(clock, f, api.deals.get(17));
    f.emu.invalidateAccessTokens();
    await drive(clock, f, api.deals.get(17));

    const text = await registry.metrics();
    const calls = { method: 'GET', path: '/api/v2/deals/:id' };
    expect(value(text, 'pipedrive_api_requests_total', { ...calls, status: '200' })).toBe(4);
    expect(value(text, 'pipedrive_api_requests_total', { ...calls, status: '404' })).toBe(1);
    expect(value(text, 'pipedrive_api_requests_total', { ...calls, status: '401' })).toBe(1);
    expect(value(text, 'pipedrive_api_requests_total', { ...calls, status: '429' })).toBe(1);
    expect(value(text, 'pipedrive_api_requests_total', { method: 'GET', path: '/api/v1/leads/:id', status: '200' })).toBe(1);
    expect(value(text, 'pipedrive_api_requests_total', { method: 'GET', path: '/api/v1/users/me', status: '200' })).toBe(1);
    expect(value(text, 'pipedrive_api_rate_limited_total', { kind: 'burst' })).toBe(1);
    expect(value(text, 'pipedrive_api_retries_total', { reason: 'rate_limit' })).toBe(1);
    expect(value(text, 'pipedrive_api_retries_total', { reason: 'unauthorized' })).toBe(1);
    // The forced 429 asked for 2 s; the client waited that (plus jitter) on the clock.
    expect(value(text, 'pipedrive_api_wait_seconds_total', { reason: 'rate_limit' })).toBeGreaterThanOrEqual(2);
    expect(value(text, 'pipedrive_token_refreshes_total', { reason: 'rejected' })).toBe(1);
    expect(value(text, 'pipedrive_token_cache_requests_total', { result: 'hit' })).toBeGreaterThanOrEqual(6);

    // No label carries a token, an id or a raw path.
    for (const token of [f.grant.accessToken, f.grant.refreshToken]) expect(text).not.toContain(token);
    const paths = samples(text, 'pipedrive_api_requests_total').map((s) => s.labels.path!);
    for (const path of paths) expect(path).toMatch(/^\/api\/v[12](\/([A-Za-z]+|:id))+$/);
    expect(text).not.toContain(String(lead!.id));
    const labelValues = text
      .split('\n')
      .filter((line) => line.startsWith('pipedrive_'))
      .flatMap((line) => [...line.matchAll(/(\w+)="([^"]*)"/g)].filter((m) => !['le', 'status', 'path'].includes(m[1]!)).map((m) => m[2]!));
    for (const label of labelValues) expect(label).not.toMatch(/\d/);
  });

  it('reports a refresh the token endpoint refused, by reason', async () => {
    f.emu.invalidateAccessTokens();
    f.emu.failNextToken(1, 500, { grant: 'refresh_token' });
    const api = f.client.forConnection(f.connectionId);
    await drive(clock, f, api.deals.get(1)).catch(() => undefined);
    expect(value(await registry.metrics(), 'pipedrive_token_refresh_failures_total', { reason: 'token_endpoint' })).toBe(1);
  });

  it('counts a 429 that spends the daily budget apart from burst ones', async () => {
    f.emu.rateLimitNextApi(1, { resetSeconds: 7_200 });
    await expect(drive(clock, f, f.client.forConnection(f.connectionId).deals.get(2))).rejects.toThrow(/budget/i);
    const text = await registry.metrics();
    expect(value(text, 'pipedrive_api_rate_limited_total', { kind: 'budget' })).toBe(1);
    expect(value(text, 'pipedrive_api_rate_limited_total', { kind: 'burst' })).toBe(1);
  });

  it('reads the webhook inbox depth at each scrape and observes handling lag', async () => {
    const metrics = f.app.get((await import('../src/metrics/pipedrive-metrics.js')).PipedriveMetrics);
    let depth = 3;
    metrics.webhookInboxDepth(() => depth);
    metrics.webhookHandled(0.25, 'handled');
    expect(value(await registry.metrics(), 'pipedrive_webhook_inbox_depth', {})).toBe(3);
    depth = 0;
    const text = await registry.metrics();
    expect(value(text, 'pipedrive_webhook_inbox_depth', {})).toBe(0);
    expect(value(text, 'pipedrive_webhook_handling_lag_seconds_count', { outcome: 'handled' })).toBe(1);
  });
});

describe('the reference app at GET /metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npd-metrics-'));
  let on: ReferenceApp;
  let off: ReferenceApp;

  beforeAll(async () => {
    on = await startReferenceApp({ databaseUrl: `sqlite:${join(dir, 'on.sqlite')}`, env: { METRICS: 'true' } });
    off = await startReferenceApp({ databaseUrl: `sqlite:${join(dir, 'off.sqlite')}` });
  });
  afterAll(async () => {
    await on?.close();
    await off?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves Prometheus text with the library metrics when METRICS=true', async () => {
    const { session } = await connectAs(on, 7_301, 7_302);
    on.emulator.seed(7_301, { deals: 3 });
    expect((await send(`${on.url}/pipedrive/deals`, { headers: { cookie: session } })).status).toBe(200);
    const answer = await send(`${on.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(String(answer.headers['content-type'])).toContain('text/plain');
    expect(value(answer.text, 'pipedrive_api_requests_total', { method: 'GET', path: '/api/v2/deals', status: '200' })).toBe(1);
    expect(answer.text).toContain('process_cpu_seconds_total');
    // Neither the company nor the user id is a label value (sample values of process metrics may hold any digits).
    const labels = answer.text.split('\n').flatMap((line) => [...line.matchAll(/="([^"]*)"/g)].map((m) => m[1]!));
    expect(labels.filter((label) => label.includes('7301') || label.includes('7302'))).toEqual([]);
  });

  it('has no /metrics route when METRICS is unset', async () => {
    expect((await send(`${off.url}/metrics`)).status).toBe(404);
  });
});

describe('webhook inbox metrics of the reference app (sandbox, METRICS=true)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npd-metrics-wh-'));
  let app: INestApplication;
  let handle: ReferenceApp;

  beforeAll(async () => {
    const port = await freePort();
    const env = { NODE_ENV: 'development', PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, METRICS: 'true' };
    app = configureApp(await NestFactory.create(AppModule.forRoot(env), { logger: ['error'] }));
    await app.listen(port);
    handle = { url: `http://127.0.0.1:${port}`, emulator: app.get<PipedriveEmulator>(SANDBOX_EMULATOR) } as ReferenceApp;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('observes the handling lag of a delivered event and reads the inbox depth', async () => {
    const { session } = await connectAs(handle, 7_401, 1);
    await waitFor(() => handle.emulator.webhooks(7_401).length === 1, 'the webhook was never registered');
    const headers = { cookie: session, 'content-type': 'application/json' };
    expect(
      (await send(`${handle.url}/pipedrive/deals`, { method: 'POST', headers, body: JSON.stringify({ title: 'Measured' }) })).status,
    ).toBe(201);
    await waitFor(async () => {
      const text = (await send(`${handle.url}/metrics`)).text;
      return value(text, 'pipedrive_webhook_handling_lag_seconds_count', { outcome: 'handled' }) === 1;
    }, 'no handled webhook event was observed');
    const text = (await send(`${handle.url}/metrics`)).text;
    expect(samples(text, 'pipedrive_webhook_inbox_depth')).toEqual([{ labels: {}, value: 0 }]);
  });
});
