import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { PipedriveClock } from '../pipedrive.clock.js';

/** Pipedrive counts requests per token over a rolling 2-second window. */
export const BURST_WINDOW_MS = 2_000;
/** Slack for clock granularity between our estimate and Pipedrive's count. */
const MARGIN_MS = 10;
/**
 * Part of the limit left unused while other callers share the token: their sends since their last count
 * reached us are unknown, and a spaced schedule keeps at most this many of them in doubt. 5% of the rate.
 */
const SHARED_RESERVE = 0.05;
/** Other callers whose count has not grown for this long are taken as stopping: their room is ours. */
const OTHERS_QUIET_MS = 250;
/** Requests that may leave at once after a quiet spell; beyond them sends are spaced evenly over the window. */
const BURST_FRACTION = 0.25;
/**
 * Slack of the shared (Redis) window: a request's moment is granted before it leaves, and the time it
 * takes to reach Pipedrive may vary by this much before Pipedrive could count one too many in a window.
 * Costs 2.5% of the rate.
 */
const SHARED_MARGIN_MS = 50;
/** Limit passed to the shared window for the probe that learns the real one: it goes at once, charged later. */
const UNKNOWN_LIMIT = 0;

/**
 * The part of a token's burst limit one app instance lets itself use: all of it until a 429 shows a
 * caller that the headers did not (this one's pacing alone never provokes one). Then cut by a quarter,
 * at most once per window, and grown back by a tenth of the limit per quarter window once a whole window
 * has passed without a 429 (AIMD): callers that collide back off, and they find the limit again within
 * a few seconds instead of running slow for the rest of the burst.
 */
export class BurstShare {
  private value = 0;
  private limit = 0;
  private shrunkAt = -Infinity;
  private grownAt = -Infinity;

  constructor(private readonly windowMs: number) {}

  /** The share at `now`, grown back if it is time. */
  current(now: number): number {
    if (this.value < this.limit && now - this.shrunkAt >= this.windowMs && now - this.grownAt >= this.windowMs / 4) {
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
    this.value = Math.max(1, Math.floor(this.value * 0.75));
    this.shrunkAt = now;
  }
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Waits only for the probe's answer to tell the limit; the shared window paces it from there. */
  forLimit?: boolean;
}

/**
 * Paces one connection so it stays under Pipedrive's burst limit instead of provoking 429s.
 * A request counts against the rolling window while in flight and, once answered, from its estimated
 * arrival at Pipedrive (answer time minus half the fastest round trip seen) until the window has rolled
 * past it. A request may go while fewer than this instance's cap (its {@link BurstShare} of
 * `x-ratelimit-limit`, split fairly once others show up) count, and its credit allows: requests leave
 * spaced at the cap's pace. Answers reconcile the count: when `x-ratelimit-remaining` shows the token
 * busier than we know (another instance shares it), placeholder entries make up the difference for a
 * window, and they go as soon as an answer shows fewer.
 * Time is the injected clock's: waits are its sleeps, so a test advances them.
 */
export class BurstLimiter {
  /** From `x-ratelimit-limit`; 0 until the first answer (one probe request at a time), Infinity without headers. */
  private limit = 0;
  /** Estimated arrival times of answered requests, ascending; entries before `head` have left the window. */
  private arrived: number[] = [];
  private head = 0;
  /** Requests of other callers on the token, seen in `x-ratelimit-remaining`, as (leaves-window-at) ascending. */
  private others: number[] = [];
  private othersHead = 0;
  private readonly share = new BurstShare(BURST_WINDOW_MS);
  private inFlight = 0;
  /**
   * Slow start: requests in flight at most, doubled per round trip until the limit is reached, so the
   * answers of the first ones show other callers of the token before this one claims the whole window.
   */
  private startWindow = 1;
  /** When `x-ratelimit-limit` was first read, and whether another caller of the token was seen since. */
  private limitLearnedAt = 0;
  private othersSeen = false;
  /** When an answer last told the token's count. */
  private observedAt = 0;
  /** When an answer last showed new requests of other callers. */
  private othersGrewAt = -Infinity;
  private blockedUntil = 0;
  private fastestRoundTripMs = Infinity;
  /**
   * Sends this instance may make at once (a token bucket refilled at cap per window, holding at most a
   * quarter of the cap): a short burst goes together, a long one leaves evenly spaced, so the count
   * Pipedrive reports moves smoothly and every caller of the token sees the others in time, instead of
   * all of them filling the window at its start.
   */
  private credit = Infinity;
  private creditAt = 0;
  private readonly waiters: Waiter[] = [];
  /** Cancels the pending wake-up sleep; one per connection. */
  private wakeUp: AbortController | undefined;
  private lastUsed = 0;

  constructor(
    private readonly clock: PipedriveClock,
    /** The window shared through Redis, when the app configured it. */
    private readonly shared?: SharedBurstWindow,
  ) {}

  /**
   * Undefined when the request may go now (no await on the hot path), else a promise that resolves when
   * it may. With a shared window, a slot is reserved there for `accessToken` (one Redis call), and the
   * local pacing takes over whenever Redis does not answer.
   */
  acquire(signal?: AbortSignal, accessToken?: string): Promise<void> | undefined {
    const now = this.clock.now();
    this.lastUsed = now;
    // With a shared window a 429's pause is not applied here: the call that met it has waited it out,
    // and the others keep their moments in the shared schedule instead of leaving together when it ends.
    if (this.shared !== undefined && accessToken !== undefined && this.limit !== Infinity && this.shared.available()) {
      if (this.limit > 0) return this.reserveShared(accessToken, this.limit, signal);
      // The limit is not known yet: one probe, recorded in the shared window; the rest wait for its answer.
      if (this.inFlight === 0 && this.waiters.length === 0) return this.reserveShared(accessToken, UNKNOWN_LIMIT, signal);
      return this.queue(signal, true).then(() => {
        this.inFlight -= 1;
        return this.acquire(signal, accessToken);
      });
    }
    if (this.waiters.length === 0 && this.canSend(now)) {
      this.send();
      return undefined;
    }
    return this.queue(signal);
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
      if (status !== undefined && status < 300 && this.startWindow < this.limit) this.startWindow += 1;
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
    if (this.inFlight >= this.startWindow) return false;
    const cap = this.cap(now);
    return !this.windowFull(now, cap) && this.refill(now, cap) >= 1;
  }

  /**
   * Our share of the window is used, or, with other callers on the token, the whole window is as far as
   * their last count shows: whatever the shares, together we stay under the target.
   */
  private windowFull(now: number, cap: number): boolean {
    const own = this.count(now);
    if (own >= cap) return true;
    const others = this.countOthers(now);
    if (others === 0) return false;
    // They keep sending at their pace since their count last reached us.
    const since = Math.floor((others * (now - this.observedAt)) / BURST_WINDOW_MS);
    return own + others + since >= this.sharedTarget();
  }

  /** What all callers of the token together aim at once others are seen: the limit less the reserve. */
  private sharedTarget(): number {
    return Math.floor(this.limit * (1 - SHARED_RESERVE));
  }

  /** Counts a request leaving now, and spends a credit when pacing. */
  private send(): void {
    this.inFlight += 1;
    if (this.limit !== 0 && this.limit !== Infinity) this.credit -= 1;
  }

  /** The credit at `now`: refilled at `cap` per window since last time, at most a quarter of `cap`. */
  private refill(now: number, cap: number): number {
    const most = Math.max(1, Math.floor(cap * BURST_FRACTION));
    this.credit = Math.min(most, this.credit + ((now - this.creditAt) * cap) / BURST_WINDOW_MS);
    this.creditAt = now;
    return this.credit;
  }

  /** When the credit reaches one request at the current cap. */
  private creditAvailableAt(now: number, cap: number): number {
    const credit = this.refill(now, cap);
    return credit >= 1 ? now : now + Math.ceil(((1 - credit) * BURST_WINDOW_MS) / cap);
  }

  /**
   * How many of this instance's requests may count in the window. Alone: the whole limit. With others
   * on the token: a fair split between the callers seen (estimated from how their count compares with
   * ours), or more when they leave more, keeping room for them to quadruple what we last saw (they are
   * sending too while we read their count), or all they leave once their count has stopped growing. In
   * the first window after learning the limit counts are too small to tell callers apart: each claims
   * half, and the shared target ({@link windowFull}) keeps the sum under the limit. Never more than the
   * share a 429 left.
   */
  private cap(now: number): number {
    const others = this.countOthers(now);
    const share = this.share.current(now);
    // For the first moments after learning the limit, claim half: instances started together would
    // otherwise each take the whole window before their answers show one another.
    if (others === 0)
      return now - this.limitLearnedAt < BURST_WINDOW_MS / 4 && !this.othersSeen ? Math.min(share, Math.ceil(this.limit / 2)) : share;
    this.othersSeen = true;
    const target = this.sharedTarget();
    if (now - this.limitLearnedAt < BURST_WINDOW_MS) return Math.max(1, Math.min(share, Math.floor(target / 2)));
    const own = this.count(now);
    const callers = 1 + Math.max(1, Math.round(others / Math.max(own, 1)));
    const quiet = this.othersGrewAt > this.limitLearnedAt && now - this.othersGrewAt > OTHERS_QUIET_MS;
    const leftOver = quiet ? target - others : target - 4 * others;
    return Math.max(1, Math.min(share, Math.max(Math.floor(target / callers), leftOver)));
  }

  /** Other callers' requests Pipedrive counts now, as last seen in its headers. */
  private countOthers(now: number): number {
    const others = this.others;
    let head = this.othersHead;
    while (head < others.length && others[head]! <= now) head += 1;
    if (head > 1024 && head * 2 > others.length) {
      this.others = others.slice(head);
      head = 0;
    }
    this.othersHead = head;
    return this.others.length - head;
  }

  /** This instance's requests Pipedrive may be counting in its window right now. */
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

  /**
   * This instance's answered requests as Pipedrive counts them now: without the margin `count` keeps, so
   * one of ours leaving the window is not mistaken for another caller's arriving.
   */
  private countAnswered(now: number): number {
    const cutoff = now - BURST_WINDOW_MS;
    let index = this.head;
    while (index < this.arrived.length && this.arrived[index]! <= cutoff) index += 1;
    return this.arrived.length - index;
  }

  private learn(state: PipedriveRateLimitState, now: number): void {
    if (state.limit === undefined) {
      if (this.limit === 0) this.limit = Infinity;
      return;
    }
    if (this.limit === Infinity) this.arrived = [];
    if (this.limit !== state.limit) this.limitLearnedAt = now;
    this.share.setLimit(state.limit);
    this.limit = state.limit;
    if (state.remaining === undefined) return;
    this.observedAt = now;
    // Ours in flight may not have reached Pipedrive yet: count only the answered ones, so the others'
    // share is rather over- than under-estimated.
    const missing = state.limit - state.remaining - this.countAnswered(now) - this.countOthers(now);
    // Fewer than we thought: some of theirs left the window earlier than we assumed (or they stopped),
    // so the oldest of our guesses go, and a caller left alone takes over the window within one answer.
    if (missing < 0) this.othersHead = Math.min(this.others.length, this.othersHead - missing);
    if (missing <= 0) return;
    // Ours in flight may have been counted already: only more than those shows the others still sending.
    if (missing > this.inFlight) this.othersGrewAt = now;
    // Newly seen requests of others arrived since our last answer: they stay a whole window from about
    // now (`x-ratelimit-reset` only tells when the oldest request leaves, and in whole seconds).
    this.others = insertSorted(this.others, this.othersHead, now + BURST_WINDOW_MS + MARGIN_MS, missing);
  }

  private insert(at: number, count: number): void {
    this.arrived = insertSorted(this.arrived, this.head, at, count);
  }

  /** A slot in the shared window, then a sleep until it; local pacing if Redis fails to answer. */
  private async reserveShared(accessToken: string, limit: number, signal: AbortSignal | undefined): Promise<void> {
    this.inFlight += 1;
    const reservedAt = this.clock.now();
    const granted = await this.shared!.reserve(accessToken, limit, reservedAt);
    // The moment is counted from the reservation, not from Redis's answer.
    const waitMs = granted === undefined ? undefined : reservedAt + granted - this.clock.now();
    if (waitMs === undefined) {
      this.inFlight -= 1;
      const wait = this.waiters.length === 0 && this.canSend(this.clock.now()) ? undefined : this.queue(signal);
      if (wait === undefined) this.send();
      return wait;
    }
    if (waitMs <= 0) return;
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (reason) {
      this.inFlight -= 1;
      throw reason;
    }
  }

  private queue(signal: AbortSignal | undefined, forLimit = false): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, forLimit };
      if (signal) {
        waiter.onAbort = () => this.cancel(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.schedule(this.clock.now());
    });
  }

  private drain(now: number): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0]!;
      const known = waiter.forLimit === true && this.limit > 0;
      if (!known && !this.canSend(now)) break;
      this.waiters.shift();
      if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
      if (known) this.inFlight += 1;
      else this.send();
      waiter.resolve();
    }
    if (this.waiters.length > 0) this.schedule(now);
  }

  /** One wake-up per connection: when the oldest answered request leaves the window, or a pause ends. */
  private schedule(now: number): void {
    let wakeAt = this.blockedUntil;
    const finite = this.limit !== 0 && this.limit !== Infinity;
    if (finite && this.inFlight < this.startWindow) {
      const cap = this.cap(now);
      if (this.windowFull(now, cap)) {
        // The earliest of: our oldest answered request leaves the window, or another caller's does.
        const ownFreesAt = this.head < this.arrived.length ? this.arrived[this.head]! + BURST_WINDOW_MS + MARGIN_MS + 1 : Infinity;
        const othersFreeAt = this.othersHead < this.others.length ? this.others[this.othersHead]! + 1 : Infinity;
        const freesAt = Math.min(ownFreesAt, othersFreeAt);
        if (freesAt !== Infinity) wakeAt = Math.max(wakeAt, freesAt);
      } else wakeAt = Math.max(wakeAt, this.creditAvailableAt(now, cap));
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

/** Adds `count` entries at time `at` to an ascending log read from `head`; answers arrive nearly in order. */
function insertSorted(log: number[], head: number, at: number, count: number): number[] {
  let index = log.length;
  while (index > head && log[index - 1]! > at) index -= 1;
  if (count === 1 && index === log.length) log.push(at);
  else log.splice(index, 0, ...new Array<number>(count).fill(at));
  return log;
}

/**
 * What the library needs of a Redis client: ioredis v5 (`new Redis(url)`) fits. It is an optional
 * peer; the library never imports it.
 */
export interface PipedriveRedis {
  readonly status: string;
  /** Runs a cached Lua script (ioredis `evalsha`). */
  evalsha(sha: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
  /** Runs a Lua script (ioredis `eval`), used once to load the script. */
  eval(script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * One atomic step per request (GCRA): the token's next free moment is kept in one hash; a request takes
 * it, and the next one lies `interval` later, with interval = (window + slack) / limit. Requests of
 * every instance so leave evenly spaced, never in bursts: Pipedrive never counts more than `limit` in a
 * window even when a request takes longer to reach it than its neighbours. A probe (an instance that has
 * not read the limit yet, interval 0) goes at once and is charged to the schedule by the next paced
 * request. One round trip per request, no polling: the caller sleeps until its moment.
 */
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'next', 'unpaced')
local nextAt = tonumber(state[1] or '0')
local unpaced = tonumber(state[2] or '0')
if interval == 0 then
  redis.call('HSET', KEYS[1], 'unpaced', unpaced + 1)
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(nextAt - now, 0) + 60000))
  return '0'
end
local at = math.max(now, nextAt) + unpaced * interval
redis.call('HSET', KEYS[1], 'next', tostring(at + interval), 'unpaced', 0)
redis.call('PEXPIRE', KEYS[1], math.ceil(at + interval - now + 60000))
return tostring(at - now)
`;
const RESERVE_SHA = createHash('sha1').update(RESERVE_SCRIPT).digest('hex');

/**
 * Pipedrive's burst window of each token, kept in Redis so every instance draws on one exact count.
 * Keys name a hash of the token, never the token. When Redis is not ready or does not answer in time,
 * `reserve` gives undefined and the caller paces from the headers alone; a warning says so once per outage.
 */
export class SharedBurstWindow {
  private readonly logger = new Logger('PipedriveClient');
  private down = false;
  private lastToken = '';
  private lastKey = '';

  constructor(
    private readonly redis: PipedriveRedis,
    private readonly keyPrefix: string,
    /** A Redis call slower than this (real time) counts as Redis being down for that request. */
    private readonly timeoutMs: number,
  ) {}

  /** Redis looks usable (connected); checked before each reservation so an outage costs no wait. */
  available(): boolean {
    if (this.redis.status === 'ready') return true;
    this.markDown(`Redis is ${this.redis.status}`);
    return false;
  }

  /** Milliseconds until the reserved slot (0: go now), or undefined when Redis failed. */
  async reserve(accessToken: string, limit: number, now: number): Promise<number | undefined> {
    const interval = limit === UNKNOWN_LIMIT ? 0 : (BURST_WINDOW_MS + SHARED_MARGIN_MS) / limit;
    const args = [this.keyOf(accessToken), now, interval] as const;
    try {
      const reply = await withTimeout(
        this.redis.evalsha(RESERVE_SHA, 1, ...args).catch((error: unknown) => {
          if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
          return this.redis.eval(RESERVE_SCRIPT, 1, ...args);
        }),
        this.timeoutMs,
      );
      if (this.down) {
        this.down = false;
        this.logger.log('Redis answers again: the burst window is shared through it once more.');
      }
      return Number(reply);
    } catch (error) {
      this.markDown((error as Error)?.message ?? 'no answer');
      return undefined;
    }
  }

  private keyOf(accessToken: string): string {
    if (accessToken !== this.lastToken) {
      this.lastToken = accessToken;
      this.lastKey = `${this.keyPrefix}burst:${createHash('sha256').update(accessToken).digest('base64url').slice(0, 22)}`;
    }
    return this.lastKey;
  }

  private markDown(why: string): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(`Redis is unavailable (${why}): pacing Pipedrive calls from the rate-limit headers until it is back.`);
  }
}

/** Rejects when `work` has not settled within `timeoutMs` (an I/O deadline, on real time like the HTTP timeout). */
function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** One {@link BurstLimiter} per connection, forgotten once idle so memory follows active use. */
export class BurstLimiters {
  private readonly limiters = new Map<string, BurstLimiter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: PipedriveClock,
    private readonly shared?: SharedBurstWindow,
    sweepIntervalMs = 30_000,
  ) {
    // Housekeeping of memory only, never a wait a caller sees: a plain unref'd interval.
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  get(connectionId: string): BurstLimiter {
    let limiter = this.limiters.get(connectionId);
    if (limiter === undefined) {
      limiter = new BurstLimiter(this.clock, this.shared);
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
