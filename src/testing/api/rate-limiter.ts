import type { PipedriveEmulatorRateLimit } from '../emulator.options.js';

/** Admission times of one access token, oldest first from `head`. */
interface RateWindow {
  hits: number[];
  head: number;
}

export interface RateVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees capacity (at least 1). */
  resetSeconds: number;
}

/**
 * Strict rolling window per access token: at most `limit` admissions in any `windowMs`.
 * Only admitted requests are recorded. Pipedrive documents `x-ratelimit-reset` as the time until
 * capacity returns; if 429s counted, a client retrying early would push that moment back and
 * the header would lie, and a 429 costs Pipedrive no work. So a client that waits the advertised
 * reset always gets through, and a client that ignores it stays throttled, not banned forever.
 */
export class RateLimiter {
  /** Keyed by the access token's grant object: one lookup, and a window dies with its token. */
  private windows = new WeakMap<object, RateWindow>();

  constructor(public config: PipedriveEmulatorRateLimit) {}

  /** Admits and records one request of this token, or refuses it; `consume: false` only reports the state. */
  admit(token: object, now: number, consume = true): RateVerdict {
    const { limit, windowMs } = this.config;
    let window = this.windows.get(token);
    if (!window) this.windows.set(token, (window = { hits: [], head: 0 }));
    const hits = window.hits;
    const cutoff = now - windowMs;
    while (window.head < hits.length && hits[window.head]! <= cutoff) window.head++;
    if (window.head > 256 && window.head * 2 > hits.length) {
      hits.splice(0, window.head);
      window.head = 0;
    }
    const used = hits.length - window.head;
    if (used >= limit) {
      // Capacity returns when the hit that keeps `used` at `limit` leaves the window.
      const freesAt = hits[hits.length - limit]! + windowMs;
      return { allowed: false, limit, remaining: 0, resetSeconds: ceilSeconds(freesAt - now) };
    }
    if (consume) hits.push(now);
    const oldest = window.head < hits.length ? hits[window.head]! : now;
    const remaining = limit - used - (consume ? 1 : 0);
    return { allowed: true, limit, remaining, resetSeconds: ceilSeconds(oldest + windowMs - now) };
  }

  /** Forgets every token's past requests. */
  clear(): void {
    this.windows = new WeakMap();
  }

  /** What an unknown or unauthenticated caller would see: a full window. */
  idle(): RateVerdict {
    const { limit, windowMs } = this.config;
    return { allowed: true, limit, remaining: limit, resetSeconds: ceilSeconds(windowMs) };
  }
}

function ceilSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
