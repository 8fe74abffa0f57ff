import type { PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { PipedriveClock } from '../pipedrive.clock.js';

/** Pipedrive counts requests per token over a rolling 2-second window. */
export const BURST_WINDOW_MS = 2_000;
/** Slack for clock granularity between our estimate and Pipedrive's count. */
const MARGIN_MS = 10;

/**
 * The part of a token's burst limit one app instance lets itself use. All of it until a 429 shows
 * another instance on the same token (this one's pacing alone never provokes one); then halved, at most
 * once per window, and grown back by a tenth of the limit per window once a whole window has passed
 * without a 429. Instances sharing a token so settle near a fair split instead of colliding every window.
 */
export class BurstShare {
  private value = 0;
  private limit = 0;
  private shrunkAt = -Infinity;
  private grownAt = -Infinity;

  constructor(private readonly windowMs: number) {}

  /** The share at `now`, grown back if it is time. */
  current(now: number): number {
    if (this.value < this.limit && now - this.shrunkAt >= 2 * this.windowMs && now - this.grownAt >= this.windowMs) {
      this.value = Math.min(this.limit, this.value + Math.max(1, Math.floor(this.limit / 10)));
      this.grownAt = now;
    }
    return this.value;
  }

  /** Pipedrive told the limit; a new one resets the share. */
  setLimit(limit: number): void {
    if (limit !== this.limit) this.value = limit;
    this.limit = limit;
  }

  /** Pipedrive refused a request we believed within the limit. */
  shrink(now: number): void {
    if (this.limit === 0 || now - this.shrunkAt < this.windowMs) return;
    this.value = Math.max(1, Math.floor(this.value / 2));
    this.shrunkAt = now;
  }
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Paces one connection so it stays under Pipedrive's burst limit instead of provoking 429s.
 * A request counts against the rolling window while in flight and, once answered, from its estimated
 * arrival at Pipedrive (answer time minus half the fastest round trip seen) until the window has rolled
 * past it. A request may go while fewer than this instance's {@link BurstShare} of `x-ratelimit-limit`
 * count. Answers reconcile the count: when `x-ratelimit-remaining` shows the token busier than we know
 * (another instance shares it), placeholder entries make up the difference until `x-ratelimit-reset`.
 * Time is the injected clock's: waits are its sleeps, so a test advances them.
 */
export class BurstLimiter {
  /** From `x-ratelimit-limit`; 0 until the first answer (one probe request at a time), Infinity without headers. */
  private limit = 0;
  /** Estimated arrival times of answered requests, ascending; entries before `head` have left the window. */
  private arrived: number[] = [];
  private head = 0;
  private readonly share = new BurstShare(BURST_WINDOW_MS);
  private inFlight = 0;
  private blockedUntil = 0;
  private fastestRoundTripMs = Infinity;
  private readonly waiters: Waiter[] = [];
  /** Cancels the pending wake-up sleep; one per connection. */
  private wakeUp: AbortController | undefined;
  private lastUsed = 0;

  constructor(private readonly clock: PipedriveClock) {}

  /** Undefined when the request may go now (no await on the hot path), else a promise that resolves when it may. */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    const now = this.clock.now();
    this.lastUsed = now;
    if (this.waiters.length === 0 && this.canSend(now)) {
      this.inFlight += 1;
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

  /**
   * A request acquired earlier got a response with `status` after `roundTripMs`, or none (`status`
   * undefined: it may still have been counted, so it is kept as arrived now). A 429 was not admitted,
   * so it is not counted, and it teaches nothing: its wait is a pause. Error pages without rate-limit
   * headers (a CDN's) don't switch pacing off.
   */
  release(roundTripMs: number, status?: number, state?: PipedriveRateLimitState): void {
    const now = this.clock.now();
    this.inFlight -= 1;
    if (status === 429) this.share.shrink(now);
    else {
      if (roundTripMs < this.fastestRoundTripMs) this.fastestRoundTripMs = roundTripMs;
      if (this.limit !== Infinity) this.insert(now - this.fastestRoundTripMs / 2, 1);
      if (state !== undefined && (status! < 300 || state.limit !== undefined)) this.learn(state, now);
    }
    if (this.waiters.length > 0) this.drain(now);
  }

  /** Holds every request of this connection until `until` (epoch ms on the clock), e.g. after a 429. */
  pause(until: number): void {
    if (until > this.blockedUntil) this.blockedUntil = until;
  }

  /** Nothing in flight or waiting and the window has emptied: safe to forget. */
  isIdle(now: number): boolean {
    return this.inFlight === 0 && this.waiters.length === 0 && now - this.lastUsed > BURST_WINDOW_MS * 2;
  }

  /** Stops the pending wake-up (the module is closing). */
  close(): void {
    this.wakeUp?.abort();
  }

  private canSend(now: number): boolean {
    if (now < this.blockedUntil) return false;
    if (this.limit === Infinity) return true;
    if (this.limit === 0) return this.inFlight === 0;
    return this.count(now) < this.share.current(now);
  }

  /** Requests Pipedrive may be counting in its window right now. */
  private count(now: number): number {
    const cutoff = now - BURST_WINDOW_MS - MARGIN_MS;
    const arrived = this.arrived;
    let head = this.head;
    while (head < arrived.length && arrived[head]! <= cutoff) head += 1;
    if (head > 1024 && head * 2 > arrived.length) {
      this.arrived = arrived.slice(head);
      head = 0;
    }
    this.head = head;
    return this.inFlight + this.arrived.length - head;
  }

  private learn(state: PipedriveRateLimitState, now: number): void {
    if (state.limit === undefined) {
      if (this.limit === 0) this.limit = Infinity;
      return;
    }
    if (this.limit === Infinity) this.arrived = [];
    this.share.setLimit(state.limit);
    this.limit = state.limit;
    if (state.remaining === undefined) return;
    const missing = state.limit - state.remaining - this.count(now);
    if (missing <= 0) return;
    const freesAt = state.resetSeconds === undefined ? now + BURST_WINDOW_MS : now + state.resetSeconds * 1_000;
    this.insert(freesAt - BURST_WINDOW_MS - MARGIN_MS, missing);
  }

  /** Adds `count` entries at time `at`, keeping the log sorted (answers arrive nearly in order). */
  private insert(at: number, count: number): void {
    const arrived = this.arrived;
    let index = arrived.length;
    while (index > this.head && arrived[index - 1]! > at) index -= 1;
    if (count === 1 && index === arrived.length) arrived.push(at);
    else arrived.splice(index, 0, ...new Array<number>(count).fill(at));
  }

  private drain(now: number): void {
    while (this.waiters.length > 0 && this.canSend(now)) {
      const waiter = this.waiters.shift()!;
      if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
      this.inFlight += 1;
      waiter.resolve();
    }
    if (this.waiters.length > 0) this.schedule(now);
  }

  /** One wake-up per connection: when the oldest answered request leaves the window, or a pause ends. */
  private schedule(now: number): void {
    let wakeAt = this.blockedUntil;
    const finite = this.limit !== 0 && this.limit !== Infinity;
    if (finite && this.count(now) >= this.share.current(now) && this.head < this.arrived.length) {
      wakeAt = Math.max(wakeAt, this.arrived[this.head]! + BURST_WINDOW_MS + MARGIN_MS + 1);
    }
    // Otherwise only in-flight requests fill the window (or the probe is out): their answers drain.
    if (wakeAt <= now && (finite || this.limit === 0)) return;
    this.wakeUp?.abort();
    const wakeUp = new AbortController();
    this.wakeUp = wakeUp;
    this.clock.sleep(Math.max(0, wakeAt - now), wakeUp.signal).then(
      () => {
        if (this.wakeUp !== wakeUp) return;
        this.wakeUp = undefined;
        this.drain(this.clock.now());
      },
      () => undefined, // replaced by a later wake-up
    );
  }

  private cancel(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
    waiter.reject(waiter.signal!.reason);
  }
}

/** One {@link BurstLimiter} per connection, forgotten once idle so memory follows active use. */
export class BurstLimiters {
  private readonly limiters = new Map<string, BurstLimiter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: PipedriveClock,
    sweepIntervalMs = 30_000,
  ) {
    // Housekeeping of memory only, never a wait a caller sees: a plain unref'd interval.
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  get(connectionId: string): BurstLimiter {
    let limiter = this.limiters.get(connectionId);
    if (limiter === undefined) {
      limiter = new BurstLimiter(this.clock);
      this.limiters.set(connectionId, limiter);
    }
    return limiter;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const limiter of this.limiters.values()) limiter.close();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, limiter] of this.limiters) if (limiter.isIdle(now)) this.limiters.delete(id);
  }
}
