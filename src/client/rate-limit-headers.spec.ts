import { describe, expect, it } from 'vitest';
import { readRateLimit } from './rate-limit-headers.js';

describe('readRateLimit', () => {
  it("reads Pipedrive's headers and Retry-After in seconds", () => {
    const state = readRateLimit({ 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2', 'retry-after': '7' });
    expect(state).toEqual({ limit: 80, remaining: 0, resetSeconds: 2, retryAfterSeconds: 7 });
  });

  it('turns an HTTP-date Retry-After into seconds from now', () => {
    const state = readRateLimit({ 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
    expect(state.retryAfterSeconds).toBeGreaterThan(28);
    expect(state.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('leaves out what is missing or unreadable', () => {
    expect(readRateLimit({ 'x-ratelimit-limit': 'many' })).toEqual({ limit: undefined, remaining: undefined, resetSeconds: undefined });
  });
});
