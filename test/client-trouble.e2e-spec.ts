import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveConnectionClient } from '../src/client/pipedrive-connection.client.js';
import {
  PipedriveApiError,
  PipedriveNetworkError,
  PipedrivePaginationError,
  PipedrivePaymentRequiredError,
  PipedriveRateLimitError,
  PipedriveTimeoutError,
} from '../src/errors/pipedrive.errors.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { pipedriveErrorResponse } from '../src/errors/pipedrive-error.response.js';
import { PipedriveEvents, type PipedriveConnectionEvent } from '../src/tokens/pipedrive-events.js';
import { startClientFixture, type ClientFixture } from './support/client-fixture.js';
import { waitFor } from './support/waiting.js';

/** Runs `call` and returns what it threw. */
async function failure(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

/**
 * Settles `call`, moving the clock on in 100 ms steps whenever the client sleeps on it and no API
 * request is in flight: the client's waits take no real time, and a request never straddles a step.
 * `anyTraffic` drops the in-flight condition, for requests the emulator drops (they stay pending).
 */
async function drive<T>(clock: ManualClock, f: ClientFixture, call: Promise<T>, anyTraffic = false): Promise<T> {
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  const inFlight = () => !anyTraffic && f.apiRequests().some((r) => r.status === 0);
  while (!settled) {
    await waitFor(() => settled || (clock.pendingSleeps > 0 && !inFlight()), 'the call neither settled nor waited on the clock');
    if (!settled) await clock.advance(100);
  }
  return call;
}

/** Moves the clock on as {@link drive} does until `condition` holds (the client still waiting). */
async function driveUntil(clock: ManualClock, f: ClientFixture, condition: () => boolean): Promise<void> {
  const inFlight = () => f.apiRequests().some((r) => r.status === 0);
  while (!condition()) {
    await waitFor(() => condition() || (clock.pendingSleeps > 0 && !inFlight()), 'the condition never held');
    if (!condition()) await clock.advance(100);
  }
}

describe('PipedriveClient under trouble (emulator, real TokenService on SQLite)', () => {
  let f: ClientFixture;
  let api: PipedriveConnectionClient;
  const clock = new ManualClock();
  /** Receipt times at the emulator (its clock is `clock`) of the API requests since the last reset. */
  const arrivals = () => f.apiRequests().map((r) => r.at);

  beforeAll(async () => {
    f = await startClientFixture({ client: { timeoutMs: 5_000, maxRetries: 2, maxRateLimitRetries: 3 } }, clock);
    api = f.client.forConnection(f.connectionId);
    f.emu.seed(1, { deals: 3 });
  });
  afterAll(() => f.close());
  beforeEach(() => f.emu.resetCounts());
  afterEach(() => {
    f.emu.setLatency({ apiMs: 0 });
  });

  /** No token value anywhere a log or a JSON answer could carry it. */
  function expectNoTokens(error: Error): void {
    const views = [error.message, JSON.stringify(error), inspect(error, { depth: 10 }), String(error.stack)];
    for (const view of views) {
      expect(view).not.toContain(f.grant.accessToken);
      expect(view).not.toContain(f.grant.refreshToken);
    }
  }

  describe('401', () => {
    it('refreshes the token once and retries once', async () => {
      f.emu.invalidateAccessTokens();
      expect((await drive(clock, f, api.deals.get(1))).id).toBe(1);
      expect(f.emu.counts.refreshToken).toBe(1);
      expect(f.apiRequests().map((r) => r.status)).toEqual([401, 200]);
    });

    it('fails on a second 401 instead of looping', async () => {
      f.emu.failNextApi(2, 401);
      const error = await failure(() => drive(clock, f, api.deals.get(1)));
      expect(error).toBeInstanceOf(PipedriveApiError);
      expect((error as PipedriveApiError).status).toBe(401);
      expect(f.emu.counts.api).toBe(2);
      expect(f.emu.counts.refreshToken).toBe(1);
      expectNoTokens(error);
    });

    it('shares one refresh between concurrent 401s', async () => {
      f.emu.invalidateAccessTokens();
      const deals = await drive(clock, f, Promise.all(Array.from({ length: 20 }, () => api.deals.get(2))));
      expect(deals.every((deal) => deal.id === 2)).toBe(true);
      expect(f.emu.counts.refreshToken).toBe(1);
    });
  });

  describe('429', () => {
    it('waits x-ratelimit-reset, then succeeds', async () => {
      f.emu.rateLimitNextApi(2, { resetSeconds: 1 });
      expect((await drive(clock, f, api.deals.get(1))).id).toBe(1);
      expect(f.emu.counts.rateLimited).toBe(2);
      expect(f.emu.counts.api).toBe(3);
      const [first, second, third] = arrivals();
      expect(second! - first!).toBeGreaterThanOrEqual(1_000);
      expect(third! - second!).toBeGreaterThanOrEqual(1_000);
    });

    it('prefers Retry-After to x-ratelimit-reset', async () => {
      f.emu.rateLimitNextApi(1, { resetSeconds: 20, retryAfterSeconds: 1 });
      await drive(clock, f, api.deals.get(1));
      const [first, retry] = arrivals();
      expect(retry! - first!).toBeGreaterThanOrEqual(1_000);
      expect(retry! - first!).toBeLessThan(20_000);
    });

    it('backs off without any header', async () => {
      f.emu.rateLimitNextApi(1, { headers: false });
      await drive(clock, f, api.deals.get(1));
      expect(f.emu.counts.api).toBe(2);
      const [first, retry] = arrivals();
      expect(retry! - first!).toBeGreaterThanOrEqual(1_000);
    });

    it('gives up after maxRateLimitRetries waits with PipedriveRateLimitError', async () => {
      f.emu.rateLimitNextApi(4, { resetSeconds: 0 });
      const error = await failure(() => drive(clock, f, api.deals.get(1)));
      expect(error).toBeInstanceOf(PipedriveRateLimitError);
      expect((error as PipedriveRateLimitError).details).toMatchObject({
        status: 429,
        method: 'GET',
        path: '/api/v2/deals/1',
        rateLimit: { remaining: 0 },
      });
      expect(f.emu.counts.api).toBe(4);
      expectNoTokens(error);
    });
  });

  describe('402 payment required', () => {
    it('fails at once with PipedrivePaymentRequiredError, emits an event and leaves the connection usable', async () => {
      let off = () => {};
      const emitted = new Promise<PipedriveConnectionEvent>((resolve) => (off = f.app.get(PipedriveEvents).on(resolve)));
      f.emu.failNextApi(1, 402, { body: { success: false, error: 'Payment required', error_info: 'Company account is not active' } });
      const error = await failure(() => api.deals.get(1));
      expect(error).toBeInstanceOf(PipedrivePaymentRequiredError);
      expect(f.emu.counts.api).toBe(1);
      expect(f.emu.counts.refreshToken).toBe(0);
      expect(await emitted).toEqual({
        type: 'pipedrive.connection.payment_required',
        connectionId: f.connectionId,
        companyId: 1,
        userId: 1,
        reason: 'payment_required',
      });
      off();
      expect((await f.tokens.findConnection(f.connectionId))?.status).toBe('active');
      expect(pipedriveErrorResponse(error as PipedrivePaymentRequiredError).body).toMatchObject({
        statusCode: 402,
        error: 'pipedrive_payment_required',
      });
    });
  });

  describe('pagination', () => {
    const page = (cursor: string) => ({ body: { success: true, data: [{ id: 1 }], additional_data: { next_cursor: cursor } } });

    it('stops with PipedrivePaginationError when Pipedrive repeats a cursor', async () => {
      f.emu.failNextApi(1, 200, page('c1'));
      f.emu.failNextApi(1, 200, page('c2'));
      f.emu.failNextApi(1, 200, page('c1'));
      const error = await failure(() => api.deals.all());
      expect(error).toBeInstanceOf(PipedrivePaginationError);
      expect(error).toMatchObject({ details: { path: '/api/v2/deals', parameter: 'cursor', pages: 3 } });
      expect(f.emu.counts.api).toBe(3);
    });

    it('stops with PipedrivePaginationError when a v1 offset does not move forward', async () => {
      const offset = (start: number, next: number) => ({
        body: {
          success: true,
          data: [{ id: 1 }],
          additional_data: { pagination: { start, limit: 1, more_items_in_collection: true, next_start: next } },
        },
      });
      f.emu.failNextApi(1, 200, offset(0, 1));
      f.emu.failNextApi(1, 200, offset(1, 1));
      const error = await failure(() => api.notes.all());
      expect(error).toMatchObject({ name: 'PipedrivePaginationError', details: { parameter: 'start', pages: 2 } });
      expect(f.emu.counts.api).toBe(2);
    });
  });

  describe('5xx and network failures', () => {
    it('retries a GET', async () => {
      f.emu.failNextApi(2, 503);
      expect((await drive(clock, f, api.deals.get(1))).id).toBe(1);
      expect(f.emu.counts.api).toBe(3);
    });

    it('stops after maxRetries', async () => {
      f.emu.failNextApi(3, 500);
      const error = await failure(() => drive(clock, f, api.deals.get(1)));
      expect((error as PipedriveApiError).status).toBe(500);
      expect(f.emu.counts.api).toBe(3);
    });

    it('does not retry a POST', async () => {
      f.emu.failNextApi(1, 503);
      const error = await failure(() => drive(clock, f, api.deals.create({ title: 'Once' })));
      expect((error as PipedriveApiError).status).toBe(503);
      expect(f.emu.counts.api).toBe(1);
    });

    it('retries a POST marked idempotent', async () => {
      f.emu.failNextApi(1, 502);
      expect((await drive(clock, f, api.deals.create({ title: 'Retried' }, { idempotent: true }))).title).toBe('Retried');
      expect(f.emu.counts.api).toBe(2);
    });

    it('retries a GET after a connection reset, not a POST', async () => {
      f.emu.failNextApi(1, 'reset');
      expect((await drive(clock, f, api.deals.get(1), true)).id).toBe(1);
      f.emu.failNextApi(1, 'reset');
      const error = await failure(() => drive(clock, f, api.post('/v2/deals', { title: 'Reset' }), true));
      expect(error).toBeInstanceOf(PipedriveNetworkError);
      expect((error as PipedriveNetworkError).details).toEqual({ method: 'POST', path: '/api/v2/deals' });
      expectNoTokens(error);
    });
  });

  describe('timeouts and aborts', () => {
    it('times out a slow answer without retrying it', async () => {
      f.emu.setLatency({ apiMs: 2_000 });
      const error = await failure(() => drive(clock, f, api.deals.get(1, { timeoutMs: 200 })));
      expect(error).toBeInstanceOf(PipedriveTimeoutError);
      expect(error.message).toBe('Pipedrive GET /api/v2/deals/1 timed out after 200 ms');
      expect(f.emu.counts.api).toBe(1);
      expectNoTokens(error);
    });

    it("stops when the caller's signal aborts", async () => {
      f.emu.setLatency({ apiMs: 2_000 });
      const controller = new AbortController();
      const call = failure(() => drive(clock, f, api.deals.get(1, { signal: controller.signal })));
      await waitFor(() => f.apiRequests().some((r) => r.status === 0), 'the request never reached the emulator');
      controller.abort();
      const error = await call;
      expect(error).toBeInstanceOf(PipedriveTimeoutError);
      expect(error.message).toContain('was aborted');
    });

    it('stops waiting out a 429 when the signal aborts', async () => {
      f.emu.rateLimitNextApi(1, { resetSeconds: 2, retryAfterSeconds: 10 });
      const controller = new AbortController();
      const call = failure(() => api.deals.get(1, { signal: controller.signal }));
      await driveUntil(clock, f, () => f.emu.counts.rateLimited === 1 && !f.apiRequests().some((r) => r.status === 0));
      controller.abort();
      const error = await call;
      expect(error).toBeInstanceOf(PipedriveTimeoutError);
      expect(error.message).toContain('was aborted');
      await clock.advance(12_000); // the wait it gave up would have ended by now
      expect(f.emu.counts.api).toBe(1);
    });
  });

  it('paces a busy connection under the burst limit instead of provoking 429s', async () => {
    f.emu.setRateLimit({ limit: 10, windowMs: 2_000 });
    try {
      const user = { companyId: 1, userId: 2 };
      await f.connect(user, f.emu.grant({ clientId: 'client-app', ...user }));
      const paced = f.client.forUser(user.companyId, user.userId);
      f.emu.resetCounts();
      const deals = await drive(clock, f, Promise.all(Array.from({ length: 25 }, () => paced.deals.get(3))));
      expect(deals).toHaveLength(25);
      expect(f.emu.counts.rateLimited).toBe(0);
      expect(f.emu.counts.api).toBe(25);
      // 25 calls at 10 per window: the last ones had to wait for the window to roll, twice.
      const times = arrivals();
      expect(times[24]! - times[0]!).toBeGreaterThanOrEqual(4_000);
    } finally {
      f.emu.setRateLimit({ limit: 80, windowMs: 2_000 });
    }
  });
});
