import { describe, expect, it } from 'vitest';
import { TokenCache } from './token-cache.js';

const token = (id: string) => ({
  connectionId: id,
  companyId: 1,
  userId: 1,
  accessToken: `t-${id}`,
  apiDomain: 'https://x',
  expiresAt: 10_000,
});

describe('TokenCache', () => {
  it('hands a token out only while fresh', () => {
    const cache = new TokenCache(10);
    cache.set(token('a'), 5_000);
    expect(cache.fresh('a', 4_999)?.accessToken).toBe('t-a');
    expect(cache.fresh('a', 5_000)).toBeUndefined();
    expect(cache.peek('a')?.accessToken).toBe('t-a');
  });

  it('evicts the least recently used entry beyond its size', () => {
    const cache = new TokenCache(2);
    cache.set(token('a'), 5_000);
    cache.set(token('b'), 5_000);
    cache.fresh('a', 0);
    cache.set(token('c'), 5_000);
    expect(cache.peek('a')).toBeDefined();
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('c')).toBeDefined();
  });

  it('answers firstUse once per token, kept when the same token is cached again, reset by a new one', () => {
    const cache = new TokenCache(10);
    expect(cache.firstUse('a')).toBe(false);
    cache.set(token('a'), 5_000);
    expect(cache.firstUse('a')).toBe(true);
    expect(cache.firstUse('a')).toBe(false);
    cache.set(token('a'), 9_000);
    expect(cache.firstUse('a')).toBe(false);
    cache.set({ ...token('a'), accessToken: 't-a2' }, 9_000);
    expect(cache.firstUse('a')).toBe(true);
  });
});
