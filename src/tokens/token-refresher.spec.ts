import { describe, expect, it } from 'vitest';
import { refreshAt, refreshBackoffMs } from './token-refresher.js';

describe('refreshAt', () => {
  it('refreshes a normal token one margin before expiry', () => {
    expect(refreshAt(0, 3_599_000, 300_000)).toBe(3_299_000);
  });

  it('never refreshes a short-lived token before half its lifetime', () => {
    expect(refreshAt(0, 60_000, 300_000)).toBe(30_000);
  });

  it('treats a token saved as already expired as due now', () => {
    expect(refreshAt(1_000, 1_000, 300_000)).toBe(1_000);
  });
});

describe('refreshBackoffMs', () => {
  it('doubles and stays bounded', () => {
    expect([1, 2, 3, 4].map(refreshBackoffMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(refreshBackoffMs(50)).toBe(60_000);
  });
});
