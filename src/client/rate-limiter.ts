import type { PipedriveRateLimitState } from '../pipedrive.errors.js';

/** Pipedrive counts requests per token over a rolling 2-second window. */
export const BURST_WINDOW_MS = 2_000;
/** Minimum slack for the server seeing a request later than we sent it. */
const MIN_MARGIN_MS = 20;

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Paces one connection so it stays under Pipedrive's burst limit instead of provoking 429s.
 * It keeps a log of send times in the rolling window and lets a request go while the log holds fewer
 * than `x-ratelimit-limit`. Answers reconcile the log: when `x-ratelimit-remaining` says the token is
 * busier than our log shows (another process shares it), placeholder entries make up the difference
 * and expire when `x-ratelimit-reset` says capacity frees.
 */
export class ConnectionRateLimiter {
  /** From `x-ratelimit-limit`; 0 until the first answer (one probe request at a time), Infinity without headers. */
  private limit = 0;
  /** Send times, ascending; entries before `head` have left the window. */
  private sent: number[] = [];
  private head = 0;
  private inFlight = 0;
  private blockedUntil = 0;
  private latencyMs = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastUsed = 0;

  /** Undefined when the request may go now (no await on the hot path), else a promise that resolves when it may. */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    const now = Date.now();
    this.lastUsed = now;
    if (this.waiters.length === 0 && this.canSend(now)) {
      this.record(now);
      return undefined;
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => this.cancel(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.schedule(now);
    });
  }

  /** A request acquired earlier got its answer (`state` from its headers) or failed without one. */
  release(latencyMs: number, state?: PipedriveRateLimitState): void {
    const now = Date.now();
    this.inFlight -= 1;
    this.latencyMs = this.latencyMs === 0 ? latencyMs : this.latencyMs * 0.9 + latencyMs * 0.1;
    if (state !== undefined) this.learn(state, now);
    if (this.waiters.length > 0) this.drain(now);
  }

  /** Holds every request of this connection until `until` (epoch ms), e.g. after a 429. */
  pause(until: number): void {
    if (until > this.blockedUntil) this.blockedUntil = until;
  }

  /** Nothing in flight or waiting and the window has emptied: safe to forget. */
  isIdle(now: number): boolean {
    return this.inFlight === 0 && this.waiters.length === 0 && now - this.lastUsed > BURST_WINDOW_MS * 2;
  }

  private get marginMs(): number {
    return Math.max(MIN_MARGIN_MS, this.latencyMs);
  }

  private canSend(now: number): boolean {
    if (now < this.blockedUntil) return false;
    if (this.limit === Infinity) return true;
    if (this.limit === 0) return this.inFlight === 0;
    this.expire(now);
    return this.sent.length - this.head < this.limit;
  }

  private record(now: number): void {
    this.inFlight += 1;
    if (this.limit !== Infinity) this.sent.push(now);
  }

  private expire(now: number): void {
    const cutoff = now - BURST_WINDOW_MS - this.marginMs;
    const sent = this.sent;
    let head = this.head;
    while (head < sent.length && sent[head]! <= cutoff) head += 1;
    if (head > 1024 && head * 2 > sent.length) {
      this.sent = sent.slice(head);
      head = 0;
    }
    this.head = head;
  }

  private learn(state: PipedriveRateLimitState, now: number): void {
    if (state.limit === undefined) {
      if (this.limit === 0) this.limit = Infinity;
      return;
    }
    this.limit = state.limit;
    if (state.remaining === undefined) return;
    this.expire(now);
    const missing = state.limit - state.remaining - (this.sent.length - this.head);
    if (missing <= 0) return;
    const freesAt = state.resetSeconds === undefined ? now + BURST_WINDOW_MS : now + state.resetSeconds * 1_000;
    this.insert(freesAt - BURST_WINDOW_MS - this.marginMs, missing);
  }

  /** Adds `count` placeholder sends at time `at`, keeping the log sorted. */
  private insert(at: number, count: number): void {
    let index = this.sent.length;
    while (index > this.head && this.sent[index - 1]! > at) index -= 1;
    this.sent.splice(index, 0, ...new Array<number>(count).fill(at));
  }

  private drain(now: number): void {
    while (this.waiters.length > 0 && this.canSend(now)) {
      const waiter = this.waiters.shift()!;
      if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
      this.record(now);
      waiter.resolve();
    }
    if (this.waiters.length > 0) this.schedule(now);
  }

  /** One timer per connection, set for when the oldest send leaves the window or a pause ends. */
  private schedule(now: number): void {
    let wakeAt = this.blockedUntil;
    if (this.limit === 0 && this.inFlight > 0 && wakeAt <= now) return; // the probe's answer drains
    if (this.limit !== 0 && this.limit !== Infinity && this.sent.length - this.head >= this.limit) {
      wakeAt = Math.max(wakeAt, this.sent[this.head]! + BURST_WINDOW_MS + this.marginMs + 1);
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain(Date.now());
    }, Math.max(0, wakeAt - now));
  }

  private cancel(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
    waiter.reject(waiter.signal!.reason);
  }
}
