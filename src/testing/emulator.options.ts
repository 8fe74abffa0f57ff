import type { PipedriveEmulatorBudgetHeaders } from './api/company-budgets.js';

/** An OAuth app registered with the emulator, as it would be in Pipedrive's Developer Hub. */
export interface PipedriveEmulatorClient {
  clientId: string;
  clientSecret: string;
  /** The app's one callback URL; `/oauth/authorize` and code exchanges must send exactly this. */
  redirectUri: string;
  /**
   * Scopes granted to this app's tokens, comma separated as Pipedrive sends them.
   * @default 'base,deals:full,contacts:full,activities:full,leads:full,users:read'
   */
  scope?: string;
}

/** A strict per-access-token rolling window. */
export interface PipedriveEmulatorRateLimit {
  /** Requests admitted per window. @default 80 */
  limit: number;
  /** Window length in milliseconds. @default 2000 */
  windowMs: number;
}

export interface PipedriveEmulatorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /**
   * Base URL the emulator advertises (OAuth base and default `api_domain`), when it is reached
   * through another address than the one it listens on.
   * @default `http://${host}:${port}`
   */
  publicUrl?: string;
  /** OAuth apps known from the start; more via `registerClient`. @default [] */
  clients?: PipedriveEmulatorClient[];
  /** Lifetime of access tokens (`expires_in`). @default 3599 */
  accessTokenTtlSeconds?: number;
  /** Lifetime of authorization codes. @default 300 */
  codeTtlSeconds?: number;
  /** A refresh token dies after this long unused; every refresh extends it. @default 5184000 (60 days) */
  refreshTokenTtlSeconds?: number;
  /** Per-token rolling window. @default { limit: 80, windowMs: 2000 } */
  rateLimit?: PipedriveEmulatorRateLimit;
  /**
   * Daily token budget of every company, charged by Pipedrive's cost table (get 2, list 20, update 10,
   * delete 6, search 40; v2 half); once spent, calls get 429 until the next UTC midnight.
   * @default undefined (unlimited)
   */
  dailyBudget?: number;
  /**
   * How a spent budget is told: `'reset'` (`x-ratelimit-reset` far beyond the 2 s window) or
   * `'retry-after'` (`Retry-After` until midnight, burst headers as usual).
   * @default 'reset'
   */
  budgetHeaders?: PipedriveEmulatorBudgetHeaders;
  /** Newest requests kept in `emu.requests`; 0 records none (benchmarks). @default 10000 */
  maxRecordedRequests?: number;
  /** Clock in milliseconds for expiries and the rate window (tests may pass a fake one). @default Date.now */
  now?: () => number;
}
