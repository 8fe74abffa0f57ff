import { Controller, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipedriveAuthController } from '../src/auth/pipedrive-auth.controller.js';
import { PipedriveConfigurationError } from '../src/errors/pipedrive.errors.js';
import { PipedriveOAuthStateEntity } from '../src/database/pipedrive-oauth-state.entity.js';
import type { PipedriveConnection } from '../src/tokens/pipedrive-token.types.js';
import { PipedriveEmulator } from '../src/testing/index.js';
import { type AuthTestApp, startAuthTestApp } from './support/auth-test-app.js';
import { cookiesOf } from './support/browser-flow.js';

/** Module-level behaviour the reference app does not expose: redirects, short state TTL, hooks, two apps at once. */

interface Step {
  cookie: string;
  callbackUrl: string;
}

async function authorize(app: AuthTestApp): Promise<Step> {
  const start = await request(`${app.url}/auth/pipedrive`);
  await start.body.dump();
  expect(start.statusCode).toBe(302);
  const cookie = Object.entries(cookiesOf(start.headers)).map(([k, v]) => `${k}=${v}`).join('; ');
  const approve = await request(String(start.headers.location));
  await approve.body.dump();
  return { cookie, callbackUrl: String(approve.headers.location) };
}

async function callback(step: Step) {
  const answer = await request(step.callbackUrl, { headers: { cookie: step.cookie } });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, text, json: () => JSON.parse(text) };
}

const connectionCount = async (app: AuthTestApp) =>
  Number((await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_connections'))[0].n);

describe('PipedriveAuthModule with redirects configured', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthTestApp({
      options: { successRedirect: '/welcome', failureRedirect: '/connect?retry=1', stateTtlSeconds: 1 },
    });
  });
  afterAll(() => app?.close());

  it('redirects to successRedirect with the session cookie', async () => {
    const answer = await callback(await authorize(app));
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/welcome');
    expect(cookiesOf(answer.headers).pipedrive_session).toMatch(/\./);
  });

  it('redirects to failureRedirect with the error code for a bad state, without asking for tokens', async () => {
    const step = await authorize(app);
    const before = app.emulator.counts.authorizationCode;
    const answer = await callback({ ...step, cookie: `pipedrive_session_state=${randomBytes(32).toString('base64url')}` });
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/connect?retry=1&error=invalid_state');
    expect(app.emulator.counts.authorizationCode).toBe(before);
  });

  it('redirects a denial to failureRedirect', async () => {
    app.emulator.setAuthorizeDecision('deny');
    try {
      const answer = await callback(await authorize(app));
      expect(answer.headers.location).toBe('/connect?retry=1&error=user_denied');
    } finally {
      app.emulator.setAuthorizeDecision('approve');
    }
  });

  it('refuses a state older than stateTtlSeconds', async () => {
    const step = await authorize(app);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = app.emulator.counts.authorizationCode;
    const answer = await callback(step);
    expect(answer.headers.location).toBe('/connect?retry=1&error=invalid_state');
    expect(app.emulator.counts.authorizationCode).toBe(before);
  });
});

@Injectable()
class Provisioning {
  readonly connected: PipedriveConnection[] = [];
  fail = false;
}

@Controller('auth/pipedrive')
class HookedAuthController extends PipedriveAuthController {
  static provisioning = new Provisioning();

  protected override async onConnected(connection: PipedriveConnection): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (HookedAuthController.provisioning.fail) throw new Error('provisioning failed');
    HookedAuthController.provisioning.connected.push(connection);
  }
}

describe('PipedriveAuthController extended with onConnected (controller: false)', () => {
  let app: AuthTestApp;
  const provisioning = HookedAuthController.provisioning;
  beforeAll(async () => {
    app = await startAuthTestApp({ controller: false, controllers: [HookedAuthController] });
  });
  afterAll(() => app?.close());

  it('awaits onConnected before answering', async () => {
    const { connection } = await app.emulator.connect(app.app, { companyId: 31, userId: 1 });
    expect(connection).toMatchObject({ companyId: 31, userId: 1 });
    expect(provisioning.connected.map((c) => c.companyId)).toEqual([31]);
    expect(provisioning.connected[0]).not.toHaveProperty('accessToken');
  });

  it('fails the request and sets no session when onConnected throws', async () => {
    provisioning.fail = true;
    try {
      app.emulator.setAuthorizeUser({ companyId: 32, userId: 1 });
      const answer = await callback(await authorize(app));
      expect(answer.status).toBe(500);
      expect(cookiesOf(answer.headers).pipedrive_session).toBeUndefined();
    } finally {
      provisioning.fail = false;
    }
  });
});

describe('two apps with their own PipedriveAuthModule in one process', () => {
  let emulator: PipedriveEmulator;
  let first: AuthTestApp;
  let second: AuthTestApp;
  beforeAll(async () => {
    emulator = await PipedriveEmulator.start();
    first = await startAuthTestApp({ emulator });
    second = await startAuthTestApp({ emulator, options: { requireState: false } });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await emulator?.close();
  });

  it('keeps each app on its own strategy, options and database', async () => {
    const [one, two] = await Promise.all([
      emulator.connect(first.app, { companyId: 41, userId: 1 }),
      emulator.connect(second.url, { companyId: 42, userId: 1 }),
    ]);
    expect([one.connection?.companyId, two.connection?.companyId]).toEqual([41, 42]);
    expect(await connectionCount(first)).toBe(1);
    expect(await connectionCount(second)).toBe(1);
    // requireState is off only in the second app: a state-less callback passes there, not in the first.
    const [firstState, secondState] = [await authorize(first), await authorize(second)];
    const stripState = (url: string) => url.replace(/&state=[^&]*/, '');
    expect((await callback({ cookie: '', callbackUrl: stripState(firstState.callbackUrl) })).status).toBe(403);
    expect((await callback({ cookie: '', callbackUrl: stripState(secondState.callbackUrl) })).status).toBe(200);
  });
});

describe('pending states', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthTestApp();
  });
  afterAll(() => app?.close());

  it('keeps only a hash of the state, and sweeps expired ones when a new flow starts', async () => {
    const states = app.dataSource.getRepository(PipedriveOAuthStateEntity);
    await states.insert({ id: 'e'.repeat(64), expiresAt: Date.now() - 1_000 });
    const step = await authorize(app);
    const state = new URL(step.callbackUrl).searchParams.get('state')!;
    await expect.poll(() => states.findOneBy({ id: 'e'.repeat(64) })).toBeNull();
    const rows = await states.find();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.id).not.toContain(state);
  });
});

describe('start-up validation', () => {
  it('refuses to start with wrong options, naming the option', async () => {
    const failure = await startAuthTestApp({ options: { stateTtlSeconds: 3_600 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PipedriveConfigurationError);
    expect((failure as Error).message).toContain('option "stateTtlSeconds"');
  });
});
