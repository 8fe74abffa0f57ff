import { PipedriveNetworkError, PipedriveTimeoutError, type PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { ResolvedPipedriveClientOptions } from '../pipedrive-auth.options.js';
import type { PipedriveClock } from '../pipedrive.clock.js';
import type { PipedriveMetrics } from '../metrics/pipedrive-metrics.js';
import type { GetAccessTokenOptions, PipedriveAccessToken } from '../tokens/pipedrive-token.types.js';
import { toApiPath, toQueryString } from './api-path.js';
import type { BurstLimiters } from './burst-limiter.js';
import type { CustomFieldDefinitions } from './custom-fields.js';
import { apiCallCost, budgetExhaustedForMs, type DailyBudget } from './daily-budget.js';
import type { PipedriveHttpMethod, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import { readRateLimit, sendAttempt, toApiError, toResponse, type Attempt, type HttpPools, type RawResponse } from './http-transport.js';

/** What a call needs from TokenService: a valid token, and a fresh one after a 401. */
export interface AccessTokenSource {
  getAccessToken(connectionId: string, options?: GetAccessTokenOptions): Promise<PipedriveAccessToken>;
}

/** Shared by every bound client of one PipedriveClient. */
export interface RequestContext {
  readonly tokens: AccessTokenSource;
  readonly pools: HttpPools;
  readonly limiters: BurstLimiters;
  readonly budget: DailyBudget;
  readonly clock: PipedriveClock;
  readonly options: ResolvedPipedriveClientOptions;
  readonly metrics: PipedriveMetrics;
  readonly fields: CustomFieldDefinitions;
  /** Told when Pipedrive answers 402 for a connection, so the app can hear of it (an event). */
  readonly onPaymentRequired?: (connectionId: string) => void;
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Longest wait a 429 or 5xx may ask for; beyond it (e.g. a spent daily budget) the call fails at once. */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * Wait before retrying a 429: what Pipedrive asked for (`Retry-After`, else `x-ratelimit-reset`),
 * else exponential backoff from 1 s, half of Pipedrive's 2 s burst window.
 */
export function rateLimitWaitMs(state: PipedriveRateLimitState, attempt: number): number {
  const seconds = state.retryAfterSeconds ?? state.resetSeconds;
  return seconds === undefined ? Math.min(1_000 * 2 ** attempt, 16_000) : seconds * 1_000;
}

/** Wait before retrying a 5xx or a network failure: the server's `Retry-After`, else backoff from 200 ms. */
export function retryWaitMs(attempt: number, retryAfterSeconds?: number): number {
  return retryAfterSeconds === undefined ? Math.min(200 * 2 ** attempt, 5_000) : retryAfterSeconds * 1_000;
}

/** Adds up to 20% + 100 ms, never less, so callers that waited together don't come back in one burst. */
export function withJitter(ms: number): number {
  return ms + Math.random() * (100 + ms * 0.2);
}

/** undici's message and code, e.g. `other side closed (UND_ERR_SOCKET)`; they never carry headers. */
function describe(cause: unknown): string {
  const { message, code } = cause as { message?: string; code?: string };
  return code ? `${message} (${code})` : String(message);
}

/** Waits for a signal-aware wait, turning an abort into PipedriveTimeoutError. */
async function waitOrAbort(wait: Promise<void>, attempt: Attempt): Promise<void> {
  try {
    await wait;
  } catch (reason) {
    const { method, path } = attempt;
    throw new PipedriveTimeoutError(`Pipedrive ${method} ${path} was aborted`, { method, path }, { cause: reason });
  }
}

/** Sleeps `ms` on the injected clock before a retry, counted in the wait metric. */
function backOff(ctx: RequestContext, reason: 'rate_limit' | 'retry', ms: number, attempt: Attempt): Promise<void> {
  ctx.metrics.waited(reason, ms / 1000);
  return waitOrAbort(ctx.clock.sleep(ms, attempt.signal), attempt);
}

/**
 * Sends one call as a connection: refused at once while the company's daily budget is spent; paced by
 * its burst limiter; every answered call booked in the budget's ledger; 401 -> one token refresh and one retry;
 * 402 -> no retry, the context is told;
 * 429 -> bounded waits as the headers say; 5xx and network failures -> bounded retries when idempotent.
 * Every wait is a sleep of the injected clock.
 */
export async function executeRequest<T>(
  ctx: RequestContext,
  connectionId: string,
  method: PipedriveHttpMethod,
  path: string,
  options: PipedriveRequestOptions = {},
): Promise<PipedriveResponse<T>> {
  const apiPath = toApiPath(path);
  const { signal } = options;
  const { clock, metrics } = ctx;
  const retryable = options.idempotent ?? IDEMPOTENT.has(method);
  const limiter = ctx.limiters.get(connectionId);
  let token = await ctx.tokens.getAccessToken(connectionId);
  const { budget } = ctx;
  const companyId = token.companyId;
  const admitted = budget.admit(companyId);
  if (admitted !== undefined) await admitted;
  const attempt: Attempt = {
    method,
    path: apiPath,
    target: apiPath + toQueryString(options.query),
    accessToken: token.accessToken,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    timeoutMs: options.timeoutMs ?? ctx.options.timeoutMs,
    signal,
  };
  let refreshed = false;
  let retries = 0;
  let rateLimitWaits = 0;
  for (;;) {
    const pool = ctx.pools.get(token.apiDomain);
    const wait = limiter.acquire(signal, attempt.accessToken);
    if (wait !== undefined) {
      const waitFrom = clock.now();
      await waitOrAbort(wait, attempt);
      metrics.waited('pacing', (clock.now() - waitFrom) / 1000);
    }
    const startedAt = clock.now();
    let response: RawResponse;
    try {
      response = await sendAttempt(pool, attempt);
    } catch (cause) {
      limiter.release(clock.now() - startedAt);
      metrics.apiCall(method, apiPath, 0, (clock.now() - startedAt) / 1000);
      if (cause instanceof PipedriveTimeoutError) throw cause;
      const failure = new PipedriveNetworkError(
        `Pipedrive ${method} ${apiPath} failed: ${describe(cause)}`,
        { method, path: apiPath },
        { cause },
      );
      if (!retryable || retries >= ctx.options.maxRetries) throw failure;
      metrics.retry('network');
      await backOff(ctx, 'retry', withJitter(retryWaitMs(retries++)), attempt);
      continue;
    }
    const status = response.status;
    const now = clock.now();
    const rateLimit = readRateLimit(response.headers, now);
    limiter.release(now - startedAt, status, rateLimit);
    metrics.apiCall(method, apiPath, status, (now - startedAt) / 1000);
    if (status !== 429) budget.spend(companyId, apiCallCost(method, apiPath));
    if (status < 300) return toResponse<T>(attempt, response, rateLimit);
    if (status === 401 && !refreshed) {
      refreshed = true;
      metrics.retry('unauthorized');
      token = await ctx.tokens.getAccessToken(connectionId, { rejectedToken: token.accessToken });
      attempt.accessToken = token.accessToken;
      continue;
    }
    const error = toApiError(attempt, response, rateLimit);
    if (status === 402) ctx.onPaymentRequired?.(connectionId);
    if (status === 429) {
      const exhaustedForMs = budgetExhaustedForMs(rateLimit);
      metrics.rateLimited(exhaustedForMs === undefined ? 'burst' : 'budget');
      if (exhaustedForMs !== undefined) throw await budget.exhaust(token, exhaustedForMs);
      const waitMs = rateLimitWaitMs(rateLimit, rateLimitWaits);
      if (rateLimitWaits >= ctx.options.maxRateLimitRetries || waitMs > MAX_RATE_LIMIT_WAIT_MS) throw error;
      rateLimitWaits += 1;
      limiter.pause(now + waitMs);
      metrics.retry('rate_limit');
      await backOff(ctx, 'rate_limit', withJitter(waitMs), attempt);
      continue;
    }
    if (status < 500 || !retryable || retries >= ctx.options.maxRetries) throw error;
    const waitMs = retryWaitMs(retries++, rateLimit.retryAfterSeconds);
    if (waitMs > MAX_RATE_LIMIT_WAIT_MS) throw error;
    metrics.retry('server_error');
    await backOff(ctx, 'retry', withJitter(waitMs), attempt);
  }
}
