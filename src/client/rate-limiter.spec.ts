import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_WINDOW_MS, ConnectionRateLimiter } from './rate-limiter.js';

/** Acquires and reports whether the request may go within the current tick. */
async function goesNow(limiter: ConnectionRateLimiter): Promise<boolean> {
  const wait = limiter.acquire();
  if (wait === undefined) return true;
  let went = false;
  void wait.then(() => (went = true));
  await vi.advanceTimersByTimeAsync(0);
  return went;
}

describe('ConnectionRateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends one probe until an answer tells the limit, then up to the limit per window', async () => {
    const limiter = new ConnectionRateLimiter();
    expect(limiter.acquire()).toBeUndefined();
    const second = limiter.acquire()!;
    expect(second).toBeInstanceOf(Promise);
    limiter.release(5, 200, { limit: 3, remaining: 2, resetSeconds: 2 });
    await second;
    expect(await goesNow(limiter)).toBe(true); // third of 3 in the window
    expect(await goesNow(limiter)).toBe(false);
  });

  it('lets a waiting request go once the oldest send has left the window', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    limiter.release(5, 200, { limit: 1, remaining: 0, resetSeconds: 2 });
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await vi.advanceTimersByTimeAsync(BURST_WINDOW_MS - 10);
    expect(went).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(went).toBe(true);
  });

  it('does not pace a server that sends no rate-limit headers', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    limiter.release(5, 200, { limit: undefined, remaining: undefined, resetSeconds: undefined });
    for (let i = 0; i < 1_000; i++) expect(limiter.acquire()).toBeUndefined();
  });

  it('holds back when the headers show another process using the same token', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    // Our log has 1 send; the server counts 10 of 10 and frees capacity in 1 s.
    limiter.release(5, 200, { limit: 10, remaining: 0, resetSeconds: 1 });
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await vi.advanceTimersByTimeAsync(900);
    expect(went).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(went).toBe(true);
  });

  it('holds every request during a pause', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    limiter.release(5, 200, { limit: 100, remaining: 99 });
    limiter.pause(Date.now() + 500);
    let went = false;
    void limiter.acquire()!.then(() => (went = true));
    await vi.advanceTimersByTimeAsync(450);
    expect(went).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(went).toBe(true);
  });

  it('rejects a waiting request whose signal aborts, and forgets it', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal)!;
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    limiter.release(5, 200, { limit: 2, remaining: 1 });
    expect(limiter.acquire()).toBeUndefined();
  });

  it('counts a 429 as not admitted and halves its share of the limit', async () => {
    const limiter = new ConnectionRateLimiter();
    void limiter.acquire();
    limiter.release(5, 200, { limit: 4, remaining: 3 });
    for (let i = 0; i < 3; i++) expect(limiter.acquire()).toBeUndefined();
    limiter.release(5, 429, { limit: 4, remaining: 0 }); // another instance took the capacity
    // 3 of 4 count now (one answered, two in flight), but the share is down to 2.
    expect(await goesNow(limiter)).toBe(false);
  });
});
