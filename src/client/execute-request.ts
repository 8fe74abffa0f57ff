import { PipedriveNetworkError, PipedriveTimeoutError } from '../errors/pipedrive.errors.js';
import { toApiError } from './api-error.js';
import { toApiPath, toQueryString } from './api-path.js';
import { MAX_RATE_LIMIT_WAIT_MS, rateLimitWaitMs, retryWaitMs, sleep, withJitter } from './backoff.js';
import type { PipedriveHttpMethod, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import { readRateLimit } from './rate-limit-headers.js';
import type { RequestContext } from './request-context.js';
import { sendAttempt, type Answer, type Attempt } from './send-attempt.js';
import { toResponse } from './to-response.js';

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** undici's message and code, e.g. `other side closed (UND_ERR_SOCKET)`; they never carry headers. */
function describe(cause: unknown): string {
  const { message, code } = cause as { message?: string; code?: string };
  return code ? `${message} (${code})` : String(message);
}

/** Waits for the caller's signal-aware `wait`, turning an abort into PipedriveTimeoutError. */
async function waitOrAbort(wait: Promise<void>, attempt: Attempt): Promise<void> {
  try {
    await wait;
  } catch (reason) {
    const { method, path } = attempt;
    throw new PipedriveTimeoutError(`Pipedrive ${method} ${path} was aborted`, { method, path }, { cause: reason });
  }
}

/**
 * Sends one call as a connection: paced by its rate limiter; 401 -> one token refresh and one retry;
 * 429 -> bounded waits as the headers say; 402 -> no retry, the context is told; 5xx and network failures -> bounded retries when idempotent.
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
  const retryable = options.idempotent ?? IDEMPOTENT.has(method);
  const limiter = ctx.limiters.get(connectionId);
  let token = await ctx.tokens.getAccessToken(connectionId);
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
    const wait = limiter.acquire(signal);
    if (wait !== undefined) await waitOrAbort(wait, attempt);
    const startedAt = Date.now();
    let answer: Answer;
    try {
      answer = await sendAttempt(pool, attempt);
    } catch (cause) {
      limiter.release(Date.now() - startedAt);
      if (cause instanceof PipedriveTimeoutError) throw cause;
      const failure = new PipedriveNetworkError(`Pipedrive ${method} ${apiPath} failed: ${describe(cause)}`, { method, path: apiPath }, { cause });
      if (!retryable || retries >= ctx.options.maxRetries) throw failure;
      await waitOrAbort(sleep(withJitter(retryWaitMs(retries++)), signal), attempt);
      continue;
    }
    const status = answer.status;
    const rateLimit = readRateLimit(answer.headers);
    limiter.release(Date.now() - startedAt, status, rateLimit);
    if (status < 300) return toResponse<T>(attempt, answer, rateLimit);
    if (status === 401 && !refreshed) {
      refreshed = true;
      token = await ctx.tokens.getAccessToken(connectionId, { rejectedToken: token.accessToken });
      attempt.accessToken = token.accessToken;
      continue;
    }
    const error = toApiError(attempt, answer, rateLimit);
    if (status === 402) ctx.onPaymentRequired?.(connectionId);
    if (status === 429) {
      const waitMs = rateLimitWaitMs(rateLimit, rateLimitWaits);
      if (rateLimitWaits >= ctx.options.maxRateLimitRetries || waitMs > MAX_RATE_LIMIT_WAIT_MS) throw error;
      rateLimitWaits += 1;
      limiter.pause(Date.now() + waitMs);
      await waitOrAbort(sleep(withJitter(waitMs), signal), attempt);
      continue;
    }
    if (status < 500 || !retryable || retries >= ctx.options.maxRetries) throw error;
    const waitMs = retryWaitMs(retries++, rateLimit.retryAfterSeconds);
    if (waitMs > MAX_RATE_LIMIT_WAIT_MS) throw error;
    await waitOrAbort(sleep(withJitter(waitMs), signal), attempt);
  }
}

