import { beforeEach, describe, expect, it } from 'vitest';
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
 * Past the start: the limit learned a window ago, then requests answered one by one until slow start
 * allows `limit` in flight; then the window empties.
 */
async function warmUp(limiter: BurstLimiter, limit: number): Promise<void> {
  void limiter.acquire(); // the first send of the window goes at once
  limiter.release(5, 200, { limit, remaining: limit - 1, resetSeconds: 2 });
  await clock.advance(BURST_WINDOW_MS + 100);
  for (let i = 1; i < limit; i++) {
    expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 200, { limit, remaining: limit - 1, resetSeconds: 2 });
  }
  await clock.advance(BURST_WINDOW_MS + 100);
}

describe('BurstLimiter', () => {
  beforeEach(() => {
    clock = new ManualClock(1_000_000);
  });

  it('sends one probe until an answer tells the limit, then half of it in the first window', async () => {
    const limiter = new BurstLimiter(clock);
    expect(limiter.acquire()).toBeUndefined();
    const second = limiter.acquire()!;
    expect(second).toBeInstanceOf(Promise);
    limiter.release(5, 200, { limit: 6, remaining: 5, resetSeconds: 2 });
    await second;
    limiter.release(5, 200, { limit: 6, remaining: 4, resetSeconds: 2 });
    expect(await goesNow(limiter)).toBe(true); // third of 6 in the window
    expect(await goesNow(limiter)).toBe(false);
  });

  it('uses the whole limit per window once alone for a window', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 6);
    let sent = 0;
    while (await goesNow(limiter)) sent += 1;
    expect(sent).toBe(6);
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

  it('counts a 429 as not admitted and halves its share of the limit', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 4);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 4, remaining: 3 });
    for (let i = 0; i < 3; i++) expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 429, { limit: 4, remaining: 0 }); // another instance took the capacity
    // 3 of 4 count now (one answered, two in flight), but the share is down to 2.
    expect(await goesNow(limiter)).toBe(false);
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

  it('takes a fair split when the headers show another instance as busy as itself', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 10);
    // 4 of ours in flight; an answer says 4 of 10 are used: ours answered is 1, so others have 3
    // (counting our in-flight ones as not arrived: the others' count is rather over- than under-estimated).
    for (let i = 0; i < 4; i++) expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 200, { limit: 10, remaining: 6, resetSeconds: 2 });
    // Ours: 3 in flight + 1 answered = 4; others: 3. Two callers: a fair split is 5, one more.
    expect(await goesNow(limiter)).toBe(true);
    expect(await goesNow(limiter)).toBe(false);
  });

  it('uses what another caller leaves once its requests have left the window', async () => {
    const limiter = new BurstLimiter(clock);
    await warmUp(limiter, 10);
    void limiter.acquire(); // the first send of the window goes at once
    limiter.release(5, 200, { limit: 10, remaining: 1, resetSeconds: 1 }); // 8 by someone else
    let sent = 0;
    while (await goesNow(limiter)) sent += 1;
    expect(sent).toBe(0); // 9 callers' worth of others: a fair split is 1, ours
    await clock.advance(BURST_WINDOW_MS + 100); // their requests leave the window
    while (await goesNow(limiter)) sent += 1;
    expect(sent).toBeGreaterThanOrEqual(7);
  });
});

describe('BurstShare', () => {
  it('is the whole limit until a 429, then halves once per window and grows back after a quiet window', () => {
    const share = new BurstShare(2_000);
    share.setLimit(80);
    expect(share.current(0)).toBe(80);
    share.shrink(1_000);
    share.shrink(1_500); // same window: no second cut
    expect(share.current(1_500)).toBe(40);
    expect(share.current(4_999)).toBe(40);
    expect(share.current(5_000)).toBe(48);
    expect(share.current(6_000)).toBe(48);
    expect(share.current(7_000)).toBe(56);
    for (let t = 9_000; t < 30_000; t += 2_000) share.current(t);
    expect(share.current(30_000)).toBe(80);
  });

  it('never drops below one request', () => {
    const share = new BurstShare(2_000);
    share.setLimit(2);
    for (let t = 0; t < 20_000; t += 2_000) share.shrink(t);
    expect(share.current(20_000)).toBe(1);
  });
});
