import type { PipedriveRateLimitState } from '../errors/pipedrive.errors.js';

/** Response headers as undici hands them over: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

function numberHeader(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** `Retry-After` in seconds; an HTTP date is turned into seconds from now. */
function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const seconds = numberHeader(value);
  if (seconds !== undefined || value === undefined) return seconds;
  const at = Date.parse(Array.isArray(value) ? value[0]! : value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** Reads Pipedrive's `x-ratelimit-*` headers and `Retry-After`. */
export function readRateLimit(headers: ResponseHeaders): PipedriveRateLimitState {
  const state: PipedriveRateLimitState = {
    limit: numberHeader(headers['x-ratelimit-limit']),
    remaining: numberHeader(headers['x-ratelimit-remaining']),
    resetSeconds: numberHeader(headers['x-ratelimit-reset']),
  };
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) state.retryAfterSeconds = retryAfterSeconds(retryAfter);
  return state;
}
