import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BUDGET_SYNC_INTERVAL_MS } from '../src/client/daily-budget.js';
import { PipedriveBudgetExhaustedError } from '../src/errors/pipedrive.errors.js';
import type { PipedriveConnectionEvent } from '../src/tokens/pipedrive-events.js';
import { PipedriveEvents } from '../src/tokens/pipedrive-events.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { CLIENT_APP, startClientContext, type ClientContext } from './support/client-context.js';
import { createPostgresDatabase } from './support/postgres.js';
import type { TestDatabase } from './support/test-app.js';
import { waitFor } from './support/waiting.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const USER = { companyId: 7, userId: 1 };
/** 2026-01-01 10:00 UTC: the budget resets at the next midnight, 14 h later. */
const START = Date.UTC(2026, 0, 1, 10);
const MIDNIGHT = Date.UTC(2026, 0, 2);

/** A connected Redis client, or a loud failure naming how to start Redis (never a skip). */
async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `Redis is unreachable at ${REDIS_URL} (${(error as Error).message}); these tests need it. Start it with ` +
        '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no` or set TEST_REDIS_URL.',
      { cause: error },
    );
  }
  return redis;
}

/** Scripts sent to Redis and not yet answered, by clients from {@link tracked}. */
let redisCallsInFlight = 0;

/**
 * `redis` with its scripts counted in {@link redisCallsInFlight}. Redis answers in real time while the
 * clock is manual: moving the clock while a reservation is on its way would send its request late,
 * closer to the next ones than the shared window allows, which real time never does by that much.
 */
function tracked(redis: Redis): Redis {
  const count = <T>(reply: Promise<T>): Promise<T> => {
    redisCallsInFlight += 1;
    return reply.finally(() => (redisCallsInFlight -= 1));
  };
  return new Proxy(redis, {
    get(target, property) {
      if (property === 'evalsha') return (...args: Parameters<Redis['evalsha']>) => count(target.evalsha(...args));
      if (property === 'eval') return (...args: Parameters<Redis['eval']>) => count(target.eval(...args));
      return Reflect.get(target, property, target);
    },
  });
}

interface Instance extends ClientContext {
  connectionId: string;
  events: PipedriveConnectionEvent[];
}

/** One app instance on its own database, with the same token stored (or another user's). */
async function startInstance(
  emu: PipedriveEmulator,
  clock: ManualClock,
  grant: ReturnType<PipedriveEmulator['grant']>,
  client: Record<string, unknown> = {},
  user = USER,
  database?: TestDatabase,
): Promise<Instance> {
  const context = await startClientContext(emu.url, { client }, undefined, clock, database);
  const { id } = await context.connect(user, grant);
  const events: PipedriveConnectionEvent[] = [];
  context.app.get(PipedriveEvents).on((event) => void events.push(event));
  return { ...context, connectionId: id, events };
}

/**
 * Settles `call`, moving the clock on in `stepMs` steps whenever the clients sleep on it and no API
 * request is in flight at the emulator nor any script at Redis. Requests woken within one step reach the emulator at its end,
 * so a step must stay well below the slack the pacing keeps (50 ms in the shared window).
 */
async function drive<T>(clock: ManualClock, emu: PipedriveEmulator, call: Promise<T>, stepMs = 100): Promise<T> {
  let settled = false;
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  const inFlight = () => redisCallsInFlight > 0 || emu.requests.some((r) => r.status === 0);
  while (!settled) {
    await waitFor(() => settled || (clock.pendingSleeps > 0 && !inFlight()), 'the calls neither settled nor waited on the clock');
    if (!settled) await clock.advance(stepMs);
  }
  return call;
}

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('Shared limits: one burst window in Redis, the daily budget', () => {
  let redis: Redis;
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = <T extends { close(): Promise<void> }>(thing: T): T => (opened.push(thing), thing);

  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(() => redis?.quit());
  afterEach(async () => {
    vi.restoreAllMocks();
    while (opened.length > 0) await opened.pop()!.close();
  });

  /** Redis options for one test: a key prefix no other test (or helper) shares. */
  // The clock is manual but Redis answers in real time: a deadline generous enough that a loaded machine
  // never sends a call to header pacing in mid-test (the fallback has its own test).
  const shared = () => ({
    redis: tracked(redis),
    redisKeyPrefix: `test:${randomBytes(6).toString('hex')}:`,
    redisTimeoutMs: 10_000,
  });

  describe('the burst window in Redis', () => {
    it('keeps three instances on one token under the limit with no 429', async () => {
      const clock = new ManualClock(START);
      const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], rateLimit: { limit: 10, windowMs: 2_000 }, clock }));
      emu.seed(USER.companyId, { deals: 3 });
      const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
      const options = shared();
      const instances: Instance[] = [];
      for (let i = 0; i < 3; i++) instances.push(open(await startInstance(emu, clock, grant, options)));
      emu.resetCounts();
      const calls = Array.from({ length: 45 }, (_, i) => {
        const instance = instances[i % 3]!;
        return instance.client.forConnection(instance.connectionId).deals.get((i % 3) + 1);
      });
      expect(await drive(clock, emu, Promise.all(calls), 10)).toHaveLength(45);
      expect(emu.counts.rateLimited).toBe(0);
      expect(emu.counts.api).toBe(45);
      // The window was used, not just respected: evenly spaced, 45 calls at 10 per 2.05 s take about 9 s.
      const times = emu.requests.map((r) => r.at);
      expect(times[44]! - times[0]!).toBeLessThan(10_000);
    });

    it('falls back to header pacing with a warning when Redis goes away, and no call fails', async () => {
      const clock = new ManualClock(START);
      const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], rateLimit: { limit: 10, windowMs: 2_000 }, clock }));
      emu.seed(USER.companyId, { deals: 3 });
      const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
      const doomed = await connectRedis();
      const warn = vi.spyOn(Logger.prototype, 'warn');
      const instance = open(
        await startInstance(emu, clock, grant, { redis: doomed, redisKeyPrefix: `test:${randomBytes(6).toString('hex')}:` }),
      );
      const api = instance.client.forConnection(instance.connectionId);
      await drive(clock, emu, Promise.all(Array.from({ length: 5 }, () => api.deals.get(1))));
      doomed.disconnect();
      emu.resetCounts();
      expect(await drive(clock, emu, Promise.all(Array.from({ length: 25 }, () => api.deals.get(2))))).toHaveLength(25);
      expect(emu.counts.rateLimited).toBe(0);
      expect(warn.mock.calls.map(([message]) => String(message))).toContainEqual(expect.stringContaining('Redis is unavailable'));
    });
  });

  describe('the daily budget', () => {
    for (const headers of ['reset', 'retry-after'] as const) {
      it(`stops calling a company once Pipedrive says its budget is spent (${headers} style)`, async () => {
        const clock = new ManualClock(START);
        const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], dailyBudget: 10, budgetHeaders: headers, clock }));
        emu.seed(USER.companyId, { deals: 3 });
        const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
        const instance = open(await startInstance(emu, clock, grant));
        const api = instance.client.forConnection(instance.connectionId);
        for (let i = 0; i < 10; i++) await drive(clock, emu, api.deals.get(1)); // a v2 get costs 1
        emu.resetCounts();
        const error = await failure(drive(clock, emu, api.deals.get(1)));
        expect(error).toBeInstanceOf(PipedriveBudgetExhaustedError);
        expect((error as PipedriveBudgetExhaustedError).resetAt.getTime()).toBe(MIDNIGHT);
        expect(emu.counts.api).toBe(1); // the 429 itself, not retried
        const again = await failure(api.deals.get(2));
        expect(again).toBeInstanceOf(PipedriveBudgetExhaustedError);
        expect(emu.counts.api).toBe(1); // refused before any request left
        expect(instance.events.filter((e) => e.type === 'pipedrive.company.budget_exhausted')).toEqual([
          expect.objectContaining({
            companyId: USER.companyId,
            connectionId: instance.connectionId,
            resetAt: new Date(MIDNIGHT).toISOString(),
          }),
        ]);
        await clock.advanceTo(MIDNIGHT + 1_000);
        expect((await drive(clock, emu, api.deals.get(1))).id).toBe(1);
      });
    }

    it('lets every instance learn it through Redis, and announces it once', async () => {
      const clock = new ManualClock(START);
      const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], dailyBudget: 4, clock }));
      emu.seed(USER.companyId, { deals: 3 });
      const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
      const options = shared();
      const first = open(await startInstance(emu, clock, grant, options));
      const second = open(await startInstance(emu, clock, grant, options));
      const api = first.client.forConnection(first.connectionId);
      for (let i = 0; i < 4; i++) await drive(clock, emu, api.deals.get(1));
      expect(await failure(drive(clock, emu, api.deals.get(1)))).toBeInstanceOf(PipedriveBudgetExhaustedError);
      emu.resetCounts();
      const error = await failure(second.client.forConnection(second.connectionId).deals.get(1));
      expect(error).toBeInstanceOf(PipedriveBudgetExhaustedError);
      expect(emu.counts.api).toBe(0);
      const announced = [...first.events, ...second.events].filter((e) => e.type === 'pipedrive.company.budget_exhausted');
      expect(announced).toHaveLength(1);
    });

    for (const kind of ['sqlite', 'postgres'] as const) {
      it(`lets every instance learn it through the database row without Redis, and announces it once (${kind})`, async () => {
        const clock = new ManualClock(START);
        const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], dailyBudget: 4, clock }));
        emu.seed(USER.companyId, { deals: 3 });
        const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
        let database: TestDatabase;
        if (kind === 'postgres') {
          const postgres = await createPostgresDatabase();
          open({ close: () => postgres.drop() }); // closed last, after both instances
          database = { type: 'postgres', url: postgres.url };
        } else {
          const dir = mkdtempSync(join(tmpdir(), 'npd-budget-'));
          open({ close: async () => rmSync(dir, { recursive: true, force: true }) });
          database = { type: 'sqlite', path: join(dir, 'pipedrive.sqlite') };
        }
        const first = open(await startInstance(emu, clock, grant, {}, USER, database));
        const second = open(await startInstance(emu, clock, grant, {}, USER, database));
        const secondApi = second.client.forConnection(second.connectionId);
        await drive(clock, emu, secondApi.deals.get(2)); // the second instance is at work, its view of the budget fresh
        const api = first.client.forConnection(first.connectionId);
        for (let i = 0; i < 3; i++) await drive(clock, emu, api.deals.get(1));
        expect(await failure(drive(clock, emu, api.deals.get(1)))).toBeInstanceOf(PipedriveBudgetExhaustedError);
        await clock.advance(BUDGET_SYNC_INTERVAL_MS); // the second meets the others at most this late
        emu.resetCounts();
        const error = await failure(secondApi.deals.get(2));
        expect(error).toBeInstanceOf(PipedriveBudgetExhaustedError);
        expect((error as PipedriveBudgetExhaustedError).resetAt.getTime()).toBe(MIDNIGHT);
        expect(await failure(secondApi.deals.get(3))).toBeInstanceOf(PipedriveBudgetExhaustedError);
        expect(emu.counts.api).toBe(0); // no request left either instance
        const announced = [...first.events, ...second.events].filter((e) => e.type === 'pipedrive.company.budget_exhausted');
        expect(announced).toEqual([
          expect.objectContaining({ connectionId: first.connectionId, resetAt: new Date(MIDNIGHT).toISOString() }),
        ]);
      });
    }

    it('keeps a ledger of what the app spent today by the cost table, and warns at the configured fractions', async () => {
      const clock = new ManualClock(START);
      const emu = open(await PipedriveEmulator.start({ apps: [CLIENT_APP], clock }));
      emu.seed(USER.companyId, { deals: 3 });
      const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
      const warn = vi.spyOn(Logger.prototype, 'warn');
      const instance = open(await startInstance(emu, clock, grant, { dailyBudget: 40, budgetWarningFractions: [0.5, 0.9] }));
      const api = instance.client.forConnection(instance.connectionId);
      await drive(clock, emu, api.deals.get(1)); // v2 get: 1
      await drive(clock, emu, api.deals.list()); // v2 list: 10
      await drive(clock, emu, api.users.me()); // v1 get: 2
      await drive(clock, emu, api.notes.create({ content: 'x', deal_id: 1 })); // v1 update/create: 10
      const state = await instance.client.budget(USER.companyId);
      expect(state).toMatchObject({ companyId: USER.companyId, day: '2026-01-01', spent: 23, budget: 40, exhaustedUntil: undefined });
      expect(state.spent).toBe(emu.budgetSpent(USER.companyId));
      const warnings = () => warn.mock.calls.map(([message]) => String(message)).filter((m) => m.includes('daily Pipedrive API tokens'));
      expect(warnings()).toHaveLength(1);
      await drive(clock, emu, api.deals.list()); // 33 of 40: past 0.5 already, not yet 0.9
      await drive(clock, emu, api.deals.list()); // 43: past 0.9
      expect(warnings()).toHaveLength(2);
    });
  });
});
