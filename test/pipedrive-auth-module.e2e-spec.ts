import { Controller, Get, Injectable, Req, UseGuards } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSessionToken } from '../src/auth/session-token.js';
import { PipedriveOAuthStateEntity } from '../src/database/pipedrive-oauth-state.entity.js';
import {
  PIPEDRIVE_OPTIONS,
  PipedriveAuthController,
  PipedriveAuthGuard,
  PipedriveClient,
  PipedriveConfigurationError,
  type PipedriveConnection,
  PipedriveConnectionId,
  PipedriveSessionGuard,
  type ResolvedPipedriveOptions,
  TokenService,
} from '../src/index.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { type AuthTestApp, startAuthTestApp } from './support/auth-test-app.js';
import { cookiesOf } from './support/browser-flow.js';

/** Module-level behaviour the reference app does not expose: redirects, short state TTL, hooks, two apps at once. */

interface Step {
  cookie: string;
  callbackUrl: string;
}

async function authorize(app: AuthTestApp, path = '/auth/pipedrive'): Promise<Step> {
  const start = await request(`${app.url}${path}`);
  await start.body.dump();
  expect(start.statusCode).toBe(302);
  const cookie = Object.entries(cookiesOf(start.headers))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const approve = await request(String(start.headers.location));
  await approve.body.dump();
  return { cookie, callbackUrl: String(approve.headers.location) };
}

async function callback(step: Step, url = step.callbackUrl) {
  const answer = await request(url, { headers: { cookie: step.cookie } });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, text, json: () => JSON.parse(text) };
}

const connectionCount = async (app: AuthTestApp) =>
  Number((await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_connections'))[0].n);

describe('PipedriveAuthModule with redirects configured', () => {
  let app: AuthTestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    app = await startAuthTestApp({ clock, options: { successRedirect: '/welcome', failureRedirect: '/connect?retry=1' } });
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

  it('accepts a state until stateTtlSeconds have passed on the PipedriveClock, and refuses it from then on', async () => {
    const ttlMs = app.app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS).stateTtlSeconds * 1000;
    const fresh = await authorize(app);
    await clock.advance(ttlMs - 1);
    expect((await callback(fresh)).headers.location).toBe('/welcome');

    const stale = await authorize(app);
    await clock.advance(ttlMs);
    const before = app.emulator.counts.authorizationCode;
    expect((await callback(stale)).headers.location).toBe('/connect?retry=1&error=invalid_state');
    expect(app.emulator.counts.authorizationCode).toBe(before);
  });
});

@Injectable()
class Provisioning {
  readonly connected: PipedriveConnection[] = [];
  fail = false;
  /** Set while onConnected runs; it finishes only once the test opens the gate. */
  entered?: () => void;
  gate = Promise.resolve();
}

@Controller('auth/pipedrive')
class HookedAuthController extends PipedriveAuthController {
  static provisioning = new Provisioning();

  protected override async onConnected(connection: PipedriveConnection): Promise<void> {
    const provisioning = HookedAuthController.provisioning;
    provisioning.entered?.();
    await provisioning.gate;
    if (provisioning.fail) throw new Error('provisioning failed');
    provisioning.connected.push(connection);
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
    app.emulator.setAuthorizeUser({ companyId: 31, userId: 1 });
    let open!: () => void;
    provisioning.gate = new Promise<void>((resolve) => (open = resolve));
    const entered = new Promise<void>((resolve) => (provisioning.entered = resolve));
    let answered = false;
    const pending = authorize(app)
      .then(callback)
      .finally(() => (answered = true));
    await entered;
    expect(answered).toBe(false);
    open();
    const answer = await pending;
    expect(answer.status).toBe(200);
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

/** Routes of an app's own, with the guard on both ends, as README shows for `controller: false`. */
@Controller('connect')
@UseGuards(PipedriveAuthGuard)
class OwnConnectController {
  @Get()
  start(): string {
    return 'the guard redirects before this runs';
  }

  @Get('done')
  done(@Req() request: { user?: PipedriveConnection }) {
    return { connected: request.user?.companyId };
  }
}

describe('PipedriveAuthGuard on routes of your own (controller: false)', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthTestApp({ controller: false, controllers: [OwnConnectController], redirectPath: '/connect/done' });
  });
  afterAll(() => app?.close());

  it('starts the flow on a request without an answer, and completes it with the connection on request.user', async () => {
    app.emulator.setAuthorizeUser({ companyId: 71, userId: 1 });
    const step = await authorize(app, '/connect');
    expect(new URL(step.callbackUrl).pathname).toBe('/connect/done');
    const answer = await callback(step);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ connected: 71 });
    expect(cookiesOf(answer.headers).pipedrive_session).toMatch(/\./);
  });

  it('answers a refused state with 403 invalid_state JSON, without an exception filter', async () => {
    const step = await authorize(app, '/connect');
    const answer = await callback({ ...step, cookie: '' });
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ statusCode: 403, error: 'invalid_state' });
  });
});

describe('only the callback route completes a flow', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthTestApp();
  });
  afterAll(() => app?.close());

  it('answers GET /auth/pipedrive?code=... with 400 invalid_request, exchanging nothing and keeping the state usable', async () => {
    app.emulator.setAuthorizeUser({ companyId: 51, userId: 1 });
    const step = await authorize(app);
    const answerAtStart = `${app.url}/auth/pipedrive${new URL(step.callbackUrl).search}`;
    const before = app.emulator.counts.authorizationCode;
    const refused = await callback(step, answerAtStart);
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ statusCode: 400, error: 'invalid_request' });
    expect(cookiesOf(refused.headers).pipedrive_session).toBeUndefined();
    expect(app.emulator.counts.authorizationCode).toBe(before);
    expect(await connectionCount(app)).toBe(0);
    expect((await callback(step)).status).toBe(200);
  });

  it('answers a callback without code or error with 400 invalid_request instead of starting a flow', async () => {
    const answer = await request(`${app.url}/auth/pipedrive/callback`);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(await answer.body.json()).toMatchObject({ error: 'invalid_request' });
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

  it('keeps each app on its own client, state store, options and database, with flows interleaved', async () => {
    const [firstStep, secondStep] = [await authorize(first), await authorize(second)];
    expect(new URL(firstStep.callbackUrl).origin).toBe(first.url);
    expect(new URL(secondStep.callbackUrl).origin).toBe(second.url);
    // Completed in reverse order of starting: each code is exchanged with its own app's credentials.
    emulator.setAuthorizeUser({ companyId: 42, userId: 1 });
    expect((await callback(secondStep)).status).toBe(200);
    expect((await callback(firstStep)).status).toBe(200);
    expect(await connectionCount(first)).toBe(1);
    expect(await connectionCount(second)).toBe(1);
    // A state belongs to the app that issued it.
    const crossed = await authorize(first);
    const foreign = crossed.callbackUrl.replace(first.url, second.url);
    expect((await callback({ ...crossed, callbackUrl: foreign })).status).toBe(403);
    // requireState is off only in the second app: a state-less callback passes there, not in the first.
    const [firstState, secondState] = [await authorize(first), await authorize(second)];
    const stripState = (url: string) => url.replace(/&state=[^&]*/, '');
    expect((await callback({ cookie: '', callbackUrl: stripState(firstState.callbackUrl) })).status).toBe(403);
    expect((await callback({ cookie: '', callbackUrl: stripState(secondState.callbackUrl) })).status).toBe(200);
  });

  it('keeps serving the first app after the second one closes', async () => {
    const third = await startAuthTestApp({ emulator });
    await third.close();
    emulator.setAuthorizeUser({ companyId: 43, userId: 1 });
    expect((await callback(await authorize(first))).status).toBe(200);
  });
});

@Controller('me')
@UseGuards(PipedriveSessionGuard)
class MeController {
  constructor(private readonly pipedrive: PipedriveClient) {}

  @Get()
  me(@PipedriveConnectionId() connectionId: string) {
    return this.pipedrive.forConnection(connectionId).users.me();
  }
}

describe('session-guarded routes of an app without PipedriveExceptionFilter', () => {
  let app: AuthTestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    app = await startAuthTestApp({ clock, controllers: [MeController] });
  });
  afterAll(() => app?.close());

  async function connected(companyId: number): Promise<string> {
    app.emulator.setAuthorizeUser({ companyId, userId: 1 });
    const answer = await callback(await authorize(app));
    expect(answer.status).toBe(200);
    return `pipedrive_session=${cookiesOf(answer.headers).pipedrive_session}`;
  }
  const me = async (cookie?: string) => {
    const answer = await request(`${app.url}/me`, { headers: cookie ? { cookie } : {} });
    return { status: answer.statusCode, json: (await answer.body.json()) as Record<string, unknown> };
  };

  it('serves a connected session', async () => {
    expect(await me(await connected(61))).toMatchObject({ status: 200, json: { company_id: 61 } });
  });

  it('answers 401 reauthorization_required, not 500, to the session of a disconnected connection', async () => {
    const session = await connected(62);
    const disconnect = await request(`${app.url}/auth/pipedrive/disconnect`, { method: 'POST', headers: { cookie: session } });
    expect(disconnect.statusCode).toBe(200);
    await disconnect.body.dump();
    expect(await me(session)).toMatchObject({ status: 401, json: { statusCode: 401, error: 'reauthorization_required' } });
  });

  it('answers 401 reauthorization_required to the session of an uninstalled connection', async () => {
    const session = await connected(63);
    expect(await app.emulator.uninstall({ clientId: app.client.clientId, companyId: 63, userId: 1 })).toBe(200);
    expect(await me(session)).toMatchObject({ status: 401, json: { error: 'reauthorization_required' } });
  });

  it('answers 401 connection_not_found to a validly signed session of a connection this database never had', async () => {
    const { sessionSecret, sessionCookieName } = app.app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS);
    const token = signSessionToken(
      { connectionId: randomUUID(), epoch: 'AAAAAAAAAAAAAAAAAAAAAA' },
      new Date(clock.now() + 60_000),
      sessionSecret,
    );
    expect(await me(`${sessionCookieName}=${token}`)).toMatchObject({ status: 401, json: { error: 'connection_not_found' } });
  });

  it('answers 401 session_required and invalid_session to a missing or tampered cookie', async () => {
    expect(await me()).toMatchObject({ status: 401, json: { error: 'session_required' } });
    const session = await connected(65);
    expect(await me(`${session.slice(0, -1)}${session.endsWith('A') ? 'B' : 'A'}`)).toMatchObject({
      status: 401,
      json: { error: 'invalid_session' },
    });
  });

  it('ends a session once sessionMaxAgeSeconds have passed on the PipedriveClock', async () => {
    const maxAgeMs = app.app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS).sessionMaxAgeSeconds * 1000;
    const session = await connected(66);
    await clock.advance(maxAgeMs - 1_000);
    expect((await me(session)).status).toBe(200);
    await clock.advance(1_000);
    expect(await me(session)).toMatchObject({ status: 401, json: { error: 'invalid_session' } });
    expect((await app.app.get(TokenService).findConnectionByUser(66, 1))?.status).toBe('active');
  });
});

describe('pending states', () => {
  let app: AuthTestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    app = await startAuthTestApp({ clock });
  });
  afterAll(() => app?.close());

  it('writes nothing when a flow starts; keeps a consumed state hashed until it expires, then sweeps it', async () => {
    const states = app.dataSource.getRepository(PipedriveOAuthStateEntity);
    await states.insert({ id: 'e'.repeat(64), expiresAt: clock.now() - 1_000 });
    const step = await authorize(app);
    expect(await states.count()).toBe(1);
    const state = new URL(step.callbackUrl).searchParams.get('state')!;
    expect((await callback(step)).status).toBe(200);
    await expect.poll(() => states.findOneBy({ id: 'e'.repeat(64) })).toBeNull();
    const rows = await states.find();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.id).not.toContain(state);
  });

  it('refuses a state once its signed expiry has passed on the clock', async () => {
    const step = await authorize(app);
    const ttl = app.app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS).stateTtlSeconds;
    await clock.advance(ttl * 1000 + 1);
    const answer = await callback(step);
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ error: 'invalid_state', message: expect.stringContaining('expired') });
  });
});

describe('start-up validation', () => {
  it('refuses to start with wrong options, naming the option', async () => {
    const failure = await startAuthTestApp({ options: { stateTtlSeconds: 3_600 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PipedriveConfigurationError);
    expect((failure as Error).message).toContain('option "stateTtlSeconds"');
  });
});
