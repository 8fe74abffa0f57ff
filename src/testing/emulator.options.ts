import type { PipedriveClock } from '../pipedrive.clock.js';
import type { PipedriveEmulatorBudgetHeaders } from './api/company-budgets.js';
import type { PipedriveEmulatorWebhookOptions } from './api/webhook.types.js';

/**
 * An OAuth app registered with the emulator, as it would be in Pipedrive's Developer Hub. Its
 * `clientId`/`clientSecret` are what your module's `clientId`/`clientSecret` options must hold.
 */
export interface PipedriveEmulatorApp {
  clientId: string;
  clientSecret: string;
  /** The app's one callback URL; `/oauth/authorize` and code exchanges must send exactly this. */
  redirectUri: string;
  /**
   * Scopes granted to this app's tokens, comma separated as Pipedrive sends them. Add `admin` for
   * an app that manages webhooks (`/api/v1/webhooks` answers 403 without it).
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

/** Delays before the emulator answers, in milliseconds of the emulator's clock. */
export interface PipedriveEmulatorLatency {
  /** Before `POST /oauth/token` answers. @default 0 */
  tokenMs?: number;
  /** Before `/api/...` answers. @default 0 */
  apiMs?: number;
  /** Before `POST /oauth/revoke` answers. @default 0 */
  revokeMs?: number;
}

/** Options of `PipedriveEmulator.start()`; `reset()` returns every switch to these values. */
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
  /** OAuth apps known from the start; more via `registerApp()`. @default [] */
  apps?: PipedriveEmulatorApp[];
  /** Lifetime of access tokens (`expires_in`). @default 3599 */
  accessTokenTtlSeconds?: number;
  /** Lifetime of authorization codes. @default 300 */
  codeTtlSeconds?: number;
  /** A refresh token dies after this long unused; every refresh extends it. @default 5184000 (60 days) */
  refreshTokenTtlSeconds?: number;
  /** Per-token rolling window; change it later with `setRateLimit()`. @default { limit: 80, windowMs: 2000 } */
  rateLimit?: PipedriveEmulatorRateLimit;
  /**
   * Daily token budget of every company, charged by Pipedrive's cost table (get 2, list 20, update 10,
   * delete 6, search 40; v2 half); once spent, calls get 429 until the next UTC midnight of the clock.
   * Change it later with `setDailyBudget()`.
   * @default undefined (unlimited)
   */
  dailyBudget?: number;
  /**
   * How a spent budget is told: `'reset'` (`x-ratelimit-reset` far beyond the 2 s window) or
   * `'retry-after'` (`Retry-After` until midnight, burst headers as usual); `setBudgetHeaders()` later.
   * @default 'reset'
   */
  budgetHeaders?: PipedriveEmulatorBudgetHeaders;
  /** Delays before answers; change them later with `setLatency()`. @default no delay */
  latency?: PipedriveEmulatorLatency;
  /** Newest requests kept in `requests`; 0 records none (benchmarks). @default 10000 */
  maxRecordedRequests?: number;
  /**
   * Time for token and code expiries, the rate window, latencies and request records. Pass the
   * `ManualClock` your app's `PipedriveClock` provider uses, so app and emulator share one notion of time.
   * Webhook deliveries wait on it too (retries, the 10 s timeout, bans, deletion).
   * @default systemClock
   */
  clock?: PipedriveClock;
  /** App webhooks: time scale of the delivery rules and the attempt log size. @default { timeScale: 1, maxRecordedAttempts: 10000 } */
  webhooks?: PipedriveEmulatorWebhookOptions;
}

/** The defaults above, in one place. */
export const EMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  scope: 'base,deals:full,contacts:full,activities:full,leads:full,users:read',
  accessTokenTtlSeconds: 3599,
  codeTtlSeconds: 300,
  refreshTokenTtlSeconds: 5_184_000,
  rateLimit: { limit: 80, windowMs: 2000 },
  maxRecordedRequests: 10_000,
  budgetHeaders: 'reset',
  webhookTimeScale: 1,
  maxRecordedWebhookAttempts: 10_000,
} as const;
