import type { OutgoingHttpHeaders } from 'node:http';
import { apiCallCost } from '../../client/daily-budget.js';

/** How the emulator tells a spent daily budget; Pipedrive documents neither, so both are modelled. */
export type PipedriveEmulatorBudgetHeaders = 'reset' | 'retry-after';

const DAY_MS = 86_400_000;

/**
 * Pipedrive's daily token budget per company: each admitted API call costs what Pipedrive's cost
 * table says (the client's own table, one source), and once a company's day is spent every call is
 * answered 429 until the next UTC midnight on the emulator's clock.
 */
export class CompanyBudgets {
  private readonly spent = new Map<number, { day: number; tokens: number }>();

  constructor(
    /** Tokens per company and day; undefined: unlimited. */
    public budget: number | undefined,
    public headers: PipedriveEmulatorBudgetHeaders,
  ) {}

  /** Headers of the 429 when the company's budget is spent, else undefined. */
  refusal(companyId: number, now: number): OutgoingHttpHeaders | undefined {
    if (this.budget === undefined || this.spentToday(companyId, now) < this.budget) return undefined;
    const seconds = Math.ceil((this.dayOf(now) * DAY_MS + DAY_MS - now) / 1000);
    return this.headers === 'reset'
      ? { 'x-ratelimit-limit': this.budget, 'x-ratelimit-remaining': 0, 'x-ratelimit-reset': seconds }
      : { 'retry-after': String(seconds) };
  }

  charge(companyId: number, method: string, path: string, now: number): void {
    const day = this.dayOf(now);
    const entry = this.spent.get(companyId);
    const cost = apiCallCost(method, path);
    if (entry === undefined || entry.day !== day) this.spent.set(companyId, { day, tokens: cost });
    else entry.tokens += cost;
  }

  spentToday(companyId: number, now: number): number {
    const entry = this.spent.get(companyId);
    return entry !== undefined && entry.day === this.dayOf(now) ? entry.tokens : 0;
  }

  reset(): void {
    this.spent.clear();
  }

  private dayOf(now: number): number {
    return Math.floor(now / DAY_MS);
  }
}
