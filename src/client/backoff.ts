import type { PipedriveRateLimitState } from '../errors/pipedrive.errors.js';

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

/** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
