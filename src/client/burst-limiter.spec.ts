import { beforeEach, describe, expect, it } from 'vitest';
import { advanceWhileWaiting } from '../../test/support/waiting.js';
import { ManualClock } from '../testing/manual-clock.js';
import { BURST_WINDOW_MS, BurstLimiter, BurstShare } from './burst-limiter.js';

let clock: ManualClock;

/** Acquires and reports whether the request may go without time passing. */
async function goesNow(limiter: BurstLimiter): Promise<boolean> {
  const wait = limiter.acquire();
  if (wait === undefined) return true;
  let went = false;
  void wait.then(() => (went = true));
  await clock.advance(0);
  return went;
}

/**
 * Past the start: the limit learned a window ago, then requests sent one by one (each answered) until slow
 * start allows `limit` in flight; then the window empties.
 */
async function warmUp(limiter: BurstLimiter, limit: number): Promise<void> {
  void limiter.acquire(); // the first send of the window goes at once
  limiter.release(5, 200, { limit, remaining: limit - 1, resetSeconds: 2 });
  await clock.advance(BURST_WINDOW_MS + 100);
  for (let i = 1; i < limit; i++) {
    await clock.advance(BURST_WINDOW_MS / limit);
    expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 200, { limit, remaining: limit - 1, resetSeconds: 2 });
  }
  await clock.advance(BURST_WINDOW_MS + 100);
}

/**
 * Asks for `demand` requests at once and counts those that go within `ms` (never answered, so they count
 * against the window); the rest are withdrawn.
 */
async function sentWithin(limiter: BurstLimiter, ms: number, demand = 1_000): Promise<number> {
  const withdraw = new AbortController();
  let went = 0;
  for (let i = 0; i < demand; i++) {
    const wait = limiter.acquire(withdraw.signal);
    if (wait === undefined) went += 1;
    else
      wait.then(
        () => void went++,
        () => undefined,
      );
  }
  await clock.advance(ms);
  withdraw.abort();
  await clock.advance(0);
  return went;
}

describe('BurstLimiter', () => {
  beforeEach(() => {
    clock = new ManualClock(1_000_000);
  });

  it('sends one probe until an answer tells the limit, then half of it for the first moments', async () => {
    const limiter = new BurstLimiter(clock);
    expect(limiter.acquire()).toBeUndefined();
    const second = limiter.acquire()!;
    expect(second).toBeInstanceOf(Promise);
    const started = clock.now();
    limiter.release(5, 200, { limit: 80, remaining: 79, resetSeconds: 2 });
    await second;
    // Each send answered at once, nobody else on the token: half of 80 per window at first (10 per 500 ms
    // after a burst of a quarter of that), then the whole.
    const sent: number[] = [started];
    const answer = () => limiter.release(1, 200, { limit: 80, remaining: 80 - sent.length, resetSeconds: 2 });
    answer();
    while (clock.now() < started + 1_000) {
      const wait = limiter.acquire();
      if (wait !== undefined) await advanceWhileWaiting(clock, wait, 1);
      sent.push(clock.now());
      answer();
    }
    const first = sent.filter((at) => at < started + 500).length;
    expect(first).toBeGreaterThanOrEqual(15);
    expect(first).toBeLessThanOrEqual(1 + 10 + 10);
    expect(sent.filter((at) => at >= started + 500).length).toBeGreaterThanOrEqual(19);
  });

  it('uses the whole limit per window once alone, spread over the window rather than at its start', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 80);
    expect(await sentWithin(limiter, 100)).toBe(20 + 4); // a quarter at once, then one per 25 ms
    expect(await sentWithin(limiter, BURST_WINDOW_MS - 100)).toBe(80 - 24);
    expect(await sentWithin(limiter, 1_000)).toBe(0); // the window is full until its first send leaves
  });

  it('lets a waiting request go once the oldest send has left the window', async () => {
    const limiter = new BurstLimiter(clock);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 1, remaining: 0, resetSeconds: 2 });
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await clock.advance(BURST_WINDOW_MS - 10);
    expect(went).toBe(false);
    await clock.advance(100);
    expect(went).toBe(true);
  });

  it('does not pace a server that sends no rate-limit headers', async () => {
    const limiter = new BurstLimiter(clock);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: undefined, remaining: undefined, resetSeconds: undefined });
    for (let i = 0; i < 1_000; i++) expect(limiter.acquire()).toBeUndefined();
  });

  it('holds back when the headers show another process using the same token', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 10);
    void limiter.acquire(); // the first send of the window goes at once
    // Our log has 1 send; the server counts 10 of 10: the other 9 arrived just now and stay a window.
    limiter.release(5, 200, { limit: 10, remaining: 0, resetSeconds: 1 });
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await clock.advance(BURST_WINDOW_MS - 100);
    expect(went).toBe(false);
    await clock.advance(200);
    expect(went).toBe(true);
  });

  it('holds every request during a pause', async () => {
    const limiter = new BurstLimiter(clock);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 100, remaining: 99 });
    limiter.pause(clock.now() + 500);
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await clock.advance(450);
    expect(went).toBe(false);
    await clock.advance(100);
    expect(went).toBe(true);
  });

  it('rejects a waiting request whose signal aborts, and forgets it', async () => {
    const limiter = new BurstLimiter(clock);
    void limiter.acquire(); // the first send of the window goes at once
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal)!;
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    limiter.release(5, 200, { limit: 4, remaining: 3 });
    expect(limiter.acquire()).toBeUndefined();
  });

  it('counts a 429 as not admitted and cuts its share of the limit by a quarter', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 8);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 429, { limit: 8, remaining: 0 }); // another instance took the capacity
    // Nothing of ours counts (the 429 was not admitted), but the share is down to 6 a window.
    expect(await sentWithin(limiter, BURST_WINDOW_MS - 100)).toBe(6);
  });
});
describe('BurstLimiter with other callers on the token', () => {
  beforeEach(() => {
    clock = new ManualClock(1_000_000);
  });

  it('starts slowly: one more request in flight per answer, so early answers can show other callers', async () => {
    const limiter = new BurstLimiter(clock);
    expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 200, { limit: 80, remaining: 79, resetSeconds: 2 });
    expect(await goesNow(limiter)).toBe(true);
    expect(await goesNow(limiter)).toBe(true);
    expect(await goesNow(limiter)).toBe(false); // 2 in flight: the start window
  });

  it('takes a fair split, a little under the limit, when the headers show another instance as busy as itself', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 80);
    // Every answer shows the other instance with as many requests in the window as ours.
    const sent: number[] = [];
    const started = clock.now();
    while (clock.now() < started + BURST_WINDOW_MS - 100) {
      const wait = limiter.acquire();
      if (wait !== undefined) await advanceWhileWaiting(clock, wait, 1);
      sent.push(clock.now());
      limiter.release(1, 200, { limit: 80, remaining: 80 - 2 * sent.length, resetSeconds: 2 });
    }
    // Two callers: 95% of the limit split in two is 38 each; the window then holds 76 of 80.
    expect(sent.length).toBe(38 + 1); // the last one waited past the end
    expect(sent[37]! - started).toBeLessThan(BURST_WINDOW_MS);
    expect(sent[38]! - started).toBeGreaterThanOrEqual(BURST_WINDOW_MS);
  });

  it('uses what another caller leaves once its requests have left the window', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 10);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 10, remaining: 1, resetSeconds: 1 }); // 8 by someone else
    expect(await sentWithin(limiter, BURST_WINDOW_MS - 100)).toBe(0); // 9 callers' worth of others: 1 each, ours is sent
    await clock.advance(200); // their requests leave the window
    expect(await sentWithin(limiter, BURST_WINDOW_MS - 100)).toBeGreaterThanOrEqual(7);
  });

  it('takes over the window at once when an answer shows the others stopped', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 80);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 80, remaining: 40, resetSeconds: 1 }); // 39 by someone else
    expect(await sentWithin(limiter, 400)).toBeLessThan(20);
    await clock.advance(300); // the others send nothing more: quiet for longer than their pace
    void limiter.acquire();
    limiter.release(5, 200, { limit: 80, remaining: 80 - 25, resetSeconds: 1 }); // theirs are leaving
    // Everything but the others' remaining requests and the reserve is ours now.
    expect(await sentWithin(limiter, BURST_WINDOW_MS / 2)).toBeGreaterThan(30);
  });
});

describe('BurstShare', () => {
  it('is the whole limit until a 429, then cut by a quarter once per window and grown back after a quiet window', () => {
    const share = new BurstShare(2_000);
    share.setLimit(80);
    expect(share.current(0)).toBe(80);
    share.shrink(1_000);
    share.shrink(1_500); // same window: no second cut
    expect(share.current(1_500)).toBe(60);
    expect(share.current(2_999)).toBe(60);
    expect(share.current(3_000)).toBe(68); // a tenth of the limit per quarter window
    expect(share.current(3_499)).toBe(68);
    expect(share.current(3_500)).toBe(76);
    expect(share.current(4_000)).toBe(80);
  });

  it('never drops below one request', () => {
    const share = new BurstShare(2_000);
    share.setLimit(2);
    for (let t = 0; t < 20_000; t += 2_000) {
      share.shrink(t);
      expect(share.current(t)).toBe(1);
    }
  });
});
