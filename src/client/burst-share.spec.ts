import { describe, expect, it } from 'vitest';
import { BurstShare } from './burst-share.js';

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
