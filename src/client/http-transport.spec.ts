import { describe, expect, it } from 'vitest';
import { PipedriveApiError, PipedriveRateLimitError } from '../errors/pipedrive.errors.js';
import { readRateLimit, toApiError } from './http-transport.js';

const request = { method: 'GET', path: '/api/v2/deals/9', accessToken: 'secret-access-token' };

describe('toApiError', () => {
  it("carries Pipedrive's error fields, the request id and the rate-limit state", () => {
    const body = JSON.stringify({ success: false, error: 'Deal not found', error_info: 'See docs', code: 'ERR_NOT_FOUND', data: null });
    const error = toApiError(request, { status: 404, headers: { 'x-request-id': 'req-1' }, text: body }, { limit: 80, remaining: 70 });
    expect(error).toBeInstanceOf(PipedriveApiError);
    expect(error.message).toBe('Pipedrive GET /api/v2/deals/9 answered 404: Deal not found');
    expect(error.details).toMatchObject({
      status: 404,
      method: 'GET',
      path: '/api/v2/deals/9',
      error: 'Deal not found',
      errorInfo: 'See docs',
      code: 'ERR_NOT_FOUND',
      requestId: 'req-1',
      rateLimit: { limit: 80, remaining: 70 },
    });
  });

  it('makes a 429 a PipedriveRateLimitError', () => {
    expect(toApiError(request, { status: 429, headers: {}, text: '' }, {})).toBeInstanceOf(PipedriveRateLimitError);
  });

  it('cuts the access token out of anything the server echoes', () => {
    const body = JSON.stringify({ error: 'bad token secret-access-token', error_info: 'secret-access-token' });
    const error = toApiError(request, { status: 401, headers: {}, text: body }, {});
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('secret-access-token');
    expect(error.details.error).toBe('bad token [redacted]');
  });

  it('survives a body that is not JSON (a CDN page)', () => {
    const error = toApiError(request, { status: 403, headers: {}, text: '<html>Forbidden</html>' }, {});
    expect(error.details.error).toBeUndefined();
    expect(error.status).toBe(403);
  });
});

describe('readRateLimit', () => {
  const now = Date.UTC(2026, 0, 1);

  it("reads Pipedrive's headers and Retry-After in seconds", () => {
    const state = readRateLimit(
      { 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2', 'retry-after': '7' },
      now,
    );
    expect(state).toEqual({ limit: 80, remaining: 0, resetSeconds: 2, retryAfterSeconds: 7 });
  });

  it("turns an HTTP-date Retry-After into seconds from the clock's now", () => {
    const state = readRateLimit({ 'retry-after': new Date(now + 30_000).toUTCString() }, now);
    expect(state.retryAfterSeconds).toBe(30);
  });

  it('leaves out what is missing or unreadable', () => {
    expect(readRateLimit({ 'x-ratelimit-limit': 'many', 'retry-after': 'soon' }, now)).toEqual({
      limit: undefined,
      remaining: undefined,
      resetSeconds: undefined,
      retryAfterSeconds: undefined,
    });
  });
});
