import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Repository } from 'typeorm';
import { PipedriveCompanyBudgetEntity } from '../database/pipedrive-company-budget.entity.js';
import { PipedriveBudgetExhaustedError, type PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { PipedriveClock } from '../pipedrive.clock.js';
import type { PipedriveRedis } from './burst-limiter.js';
import { BURST_WINDOW_MS } from './burst-limiter.js';

/*
 * Pipedrive's daily token budget per company: what each call costs, what the app spent today (the
 * ledger), and the refusal once Pipedrive says the budget is spent, shared by every instance through
 * Redis when configured, else through the database.
 */

/**
 * Tokens one call costs, by Pipedrive's cost table: single get 2, list 20, update (and create) 10,
 * delete 6, search 40; v2 endpoints half of that.
 */
export function apiCallCost(method: string, apiPath: string): number {
  // apiPath is `/api/v2/deals/12`: segments are ['', 'api', 'v2', 'deals', '12', ...].
  const segments = apiPath.split('/');
  const v2 = segments[2] === 'v2';
  let cost: number;
  if (segments.includes('search')) cost = 40;
  else if (method === 'DELETE') cost = 6;
  else if (method === 'GET' || method === 'HEAD') cost = isItem(segments[segments.length - 1]!) ? 2 : 20;
  else cost = 10;
  return v2 ? cost / 2 : cost;
}

/** The last path segment names one item: a number, a UUID (leads) or `me`. */
function isItem(segment: string): boolean {
  return segment === 'me' || /^\d+$/.test(segment) || /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(segment);
}

/** Longest wait a burst 429 asks for; a 429 asking for longer means the daily budget is spent. */
const BURST_RETRY_AFTER_LIMIT_MS = 60_000;

/**
 * Milliseconds until the budget returns when a 429 says the daily budget is spent, else undefined
 * (a burst 429). Pipedrive documents neither header for this, so both are read: a `Retry-After` of
 * more than a minute, or without one an `x-ratelimit-reset` beyond the 2-second burst window.
 */
export function budgetExhaustedForMs(state: PipedriveRateLimitState): number | undefined {
  if (state.retryAfterSeconds !== undefined) {
    const ms = state.retryAfterSeconds * 1_000;
    return ms > BURST_RETRY_AFTER_LIMIT_MS ? ms : undefined;
  }
  if (state.resetSeconds === undefined) return undefined;
  const ms = state.resetSeconds * 1_000;
  return ms > BURST_WINDOW_MS ? ms : undefined;
}

/** A company's budget as the app's instances know it, from {@link PipedriveClient.budget}. */
export interface PipedriveBudgetState {
  companyId: number;
  /** UTC day of `spent`, `YYYY-MM-DD`. */
  day: string;
  /** Tokens this app spent today for the company (every instance, as far as synced), by the cost table. */
  spent: number;
  /** The configured `client.dailyBudget`, if any. */
  budget: number | undefined;
  /** Until when Pipedrive refuses calls for the company; undefined when it does not. */
  exhaustedUntil: Date | undefined;
}

/** Shared record of one company's day. */
interface SharedRecord {
  spent: number;
  exhaustedUntil: number | null;
  /** This call recorded the exhaustion first (its instance announces it). */
  claimed: boolean;
}

/** Where instances meet: Redis or the database. */
interface SharedBudgets {
  sync(companyId: number, day: string, delta: number, exhaustedUntil: number | null, now: number): Promise<SharedRecord>;
}

const SYNC_SCRIPT = `
if redis.call('HGET', KEYS[1], 'day') ~= ARGV[1] then redis.call('HSET', KEYS[1], 'day', ARGV[1], 'spent', 0) end
local spent = redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
local untilAt = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local claimed = 0
local want = tonumber(ARGV[3])
if want > 0 and untilAt < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'until', ARGV[3])
  untilAt = want
  claimed = 1
end
redis.call('PEXPIRE', KEYS[1], 172800000)
return {spent, tostring(untilAt), claimed}
`;
const SYNC_SHA = createHash('sha1').update(SYNC_SCRIPT).digest('hex');

class RedisBudgets implements SharedBudgets {
  constructor(
    private readonly redis: PipedriveRedis,
    private readonly keyPrefix: string,
  ) {}

  async sync(companyId: number, day: string, delta: number, exhaustedUntil: number | null, now: number): Promise<SharedRecord> {
    const args = [`${this.keyPrefix}budget:${companyId}`, day, delta, exhaustedUntil ?? 0, now] as const;
    const reply = (await this.redis.evalsha(SYNC_SHA, 1, ...args).catch((error: unknown) => {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
      return this.redis.eval(SYNC_SCRIPT, 1, ...args);
    })) as [number, string, number];
    const untilAt = Number(reply[1]);
    return { spent: Number(reply[0]), exhaustedUntil: untilAt > 0 ? untilAt : null, claimed: Number(reply[2]) === 1 };
  }
}

class DatabaseBudgets implements SharedBudgets {
  constructor(private readonly rows: Repository<PipedriveCompanyBudgetEntity>) {}

  async sync(companyId: number, day: string, delta: number, exhaustedUntil: number | null, now: number): Promise<SharedRecord> {
    const rows = this.rows;
    await rows.createQueryBuilder().insert().values({ companyId, day, spent: 0, exhaustedUntil: null }).orIgnore().execute();
    await rows
      .createQueryBuilder()
      .update()
      .set({ spent: () => 'CASE WHEN day = :day THEN spent + :delta ELSE :delta END', day })
      .where('company_id = :companyId', { companyId, day, delta })
      .execute();
    let claimed = false;
    if (exhaustedUntil !== null) {
      const result = await rows
        .createQueryBuilder()
        .update()
        .set({ exhaustedUntil })
        .where('company_id = :companyId AND (exhausted_until IS NULL OR exhausted_until < :now)', { companyId, now })
        .execute();
      claimed = (result.affected ?? 0) > 0;
    }
    const row = await rows.findOneByOrFail({ companyId });
    return { spent: row.spent, exhaustedUntil: row.exhaustedUntil, claimed };
  }
}

/** How often an instance meets the others per company it calls for: its spending out, their news in. */
export const BUDGET_SYNC_INTERVAL_MS = 5_000;

const DAY_MS = 86_400_000;

interface CompanyDay {
  day: string;
  /** Epoch ms of the next UTC midnight: the ledger starts over. */
  dayEndsAt: number;
  /** Spent today as of the last sync (every instance). */
  spent: number;
  /** Spent by this instance since the last sync. */
  unsynced: number;
  exhaustedUntil: number;
  syncedAt: number;
  syncing: Promise<SharedRecord | undefined> | undefined;
  warned: number;
}

/** The connection whose call met the exhaustion. */
export interface BudgetCaller {
  connectionId: string;
  companyId: number;
  userId: number;
}

/** Called once per exhaustion, by the instance that recorded it first. */
export type BudgetExhaustedListener = (caller: BudgetCaller, resetAt: Date) => void;

/**
 * The per-company ledger and gate of the daily budget. `admit` throws PipedriveBudgetExhaustedError
 * before any request while the budget is known spent; `spend` books each answered call; `exhaust`
 * records Pipedrive's refusal where every instance reads it.
 */
export class DailyBudget {
  private readonly logger = new Logger('PipedriveClient');
  private readonly companies = new Map<number, CompanyDay>();
  private readonly shared: SharedBudgets;
  private readonly fallback: SharedBudgets | undefined;
  private sharedDown = false;

  constructor(
    private readonly clock: PipedriveClock,
    private settings: { dailyBudget: number | undefined; warningFractions: number[] },
    rows: Repository<PipedriveCompanyBudgetEntity>,
    redis: { client: PipedriveRedis; keyPrefix: string } | undefined,
    private readonly onExhausted: BudgetExhaustedListener,
  ) {
    this.settings = { ...settings, warningFractions: [...settings.warningFractions].sort((a, b) => a - b) };
    const database = new DatabaseBudgets(rows);
    this.shared = redis ? new RedisBudgets(redis.client, redis.keyPrefix) : database;
    this.fallback = redis ? database : undefined;
  }

  /**
   * Undefined when a call for the company may leave now (the hot path: no await); a promise while the
   * company's state is being refreshed from the other instances. Rejects or throws
   * PipedriveBudgetExhaustedError while the budget is spent.
   */
  admit(companyId: number): Promise<void> | undefined {
    const now = this.clock.now();
    const company = this.company(companyId, now);
    if (company.exhaustedUntil > now) throw new PipedriveBudgetExhaustedError(companyId, new Date(company.exhaustedUntil));
    if (now - company.syncedAt < BUDGET_SYNC_INTERVAL_MS) return undefined;
    return this.sync(companyId, company, null).then(() => {
      if (company.exhaustedUntil > this.clock.now()) throw new PipedriveBudgetExhaustedError(companyId, new Date(company.exhaustedUntil));
    });
  }

  /** Books one answered call. */
  spend(companyId: number, cost: number): void {
    const company = this.company(companyId, this.clock.now());
    company.unsynced += cost;
    this.warnIfDue(companyId, company);
  }

  /**
   * Pipedrive said the budget is spent for `forMs` more: every instance learns it, calls stop, and the
   * instance that records it first announces it.
   */
  async exhaust(caller: BudgetCaller, forMs: number): Promise<PipedriveBudgetExhaustedError> {
    const { companyId } = caller;
    const now = this.clock.now();
    const company = this.company(companyId, now);
    const until = now + forMs;
    const known = company.exhaustedUntil > now;
    company.exhaustedUntil = Math.max(company.exhaustedUntil, until);
    if (!known) {
      const record = await this.sync(companyId, company, until);
      // Without a shared store this instance is the only judge of "first".
      if (record === undefined || record.claimed) this.onExhausted(caller, new Date(company.exhaustedUntil));
    }
    return new PipedriveBudgetExhaustedError(companyId, new Date(company.exhaustedUntil));
  }

  /** The company's day, synced with the other instances first. */
  async state(companyId: number): Promise<PipedriveBudgetState> {
    const company = this.company(companyId, this.clock.now());
    await this.sync(companyId, company, null);
    const exhausted = company.exhaustedUntil > this.clock.now();
    return {
      companyId,
      day: company.day,
      spent: company.spent + company.unsynced,
      budget: this.settings.dailyBudget,
      exhaustedUntil: exhausted ? new Date(company.exhaustedUntil) : undefined,
    };
  }

  private company(companyId: number, now: number): CompanyDay {
    let company = this.companies.get(companyId);
    if (company !== undefined && now < company.dayEndsAt) return company;
    const dayEndsAt = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    const day = new Date(now).toISOString().slice(0, 10);
    company = {
      day,
      dayEndsAt,
      spent: 0,
      unsynced: 0,
      exhaustedUntil: company?.exhaustedUntil ?? 0,
      syncedAt: -Infinity,
      syncing: undefined,
      warned: 0,
    };
    this.companies.set(companyId, company);
    return company;
  }

  /** One sync at a time per company; an exhaustion to record always gets its own. */
  private sync(companyId: number, company: CompanyDay, exhaustedUntil: number | null): Promise<SharedRecord | undefined> {
    if (company.syncing !== undefined && exhaustedUntil === null) return company.syncing;
    const delta = company.unsynced;
    company.unsynced = 0;
    company.syncedAt = this.clock.now();
    const run = this.meet(companyId, company.day, delta, exhaustedUntil).then((record) => {
      if (record === undefined) {
        company.unsynced += delta; // nobody to meet: keep counting locally
        return undefined;
      }
      company.spent = record.spent;
      if (record.exhaustedUntil !== null && record.exhaustedUntil > company.exhaustedUntil) company.exhaustedUntil = record.exhaustedUntil;
      this.warnIfDue(companyId, company);
      return record;
    });
    const done = run.finally(() => {
      if (company.syncing === done) company.syncing = undefined;
    });
    company.syncing = done;
    return done;
  }

  /** Redis, else the database; a failure is logged once per outage and never fails a call. */
  private async meet(companyId: number, day: string, delta: number, exhaustedUntil: number | null): Promise<SharedRecord | undefined> {
    const now = this.clock.now();
    try {
      const record = await this.shared.sync(companyId, day, delta, exhaustedUntil, now);
      if (this.sharedDown) this.logger.log('The shared budget store answers again.');
      this.sharedDown = false;
      return record;
    } catch (error) {
      if (!this.sharedDown) {
        this.logger.warn(
          `Could not share the daily budget of company ${companyId} (${(error as Error)?.message ?? 'no answer'})${this.fallback ? '; using the database' : ''}.`,
        );
      }
      this.sharedDown = true;
      if (this.fallback === undefined) return undefined;
      try {
        return await this.fallback.sync(companyId, day, delta, exhaustedUntil, now);
      } catch {
        return undefined;
      }
    }
  }

  private warnIfDue(companyId: number, company: CompanyDay): void {
    const budget = this.settings.dailyBudget;
    if (budget === undefined) return;
    const spent = company.spent + company.unsynced;
    const fractions = this.settings.warningFractions;
    let reached = company.warned;
    while (reached < fractions.length && spent >= fractions[reached]! * budget) reached += 1;
    if (reached === company.warned) return;
    company.warned = reached;
    const percent = Math.round(fractions[reached - 1]! * 100);
    this.logger.warn(`Company ${companyId} has spent ${spent} of its ${budget} daily Pipedrive API tokens today (over ${percent}%).`);
  }
}
