import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PipedriveAuthException } from './pipedrive-auth.exception.js';
import { PipedriveExceptionFilter } from './pipedrive-exception.filter.js';
import { PipedriveRateLimitError, PipedriveReauthorizationRequiredError } from './pipedrive.errors.js';

/** The filter answers only through Nest's HTTP adapter, so any platform's adapter serves; this one records. */
function recordingAdapter() {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      calls.push([name, ...args]);
  const httpAdapter = { reply: record('reply'), redirect: record('redirect'), setHeader: record('setHeader') };
  return { calls, host: { httpAdapter } as unknown as HttpAdapterHost };
}

const response = { platform: 'any' };
const http = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;

describe('PipedriveExceptionFilter', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers a library error with its status, JSON body and headers through the adapter', () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const { calls, host } = recordingAdapter();
    const filter = new PipedriveExceptionFilter(host);
    filter.catch(new PipedriveReauthorizationRequiredError('c1', 'revoked'), http);
    filter.catch(
      new PipedriveRateLimitError('x', { method: 'GET', path: '/v2/deals', status: 429, rateLimit: { resetSeconds: 1.5 } }),
      http,
    );
    expect(calls).toEqual([
      ['reply', response, expect.objectContaining({ statusCode: 401, error: 'reauthorization_required' }), 401],
      ['setHeader', response, 'retry-after', '2'],
      ['reply', response, expect.objectContaining({ statusCode: 429, error: 'rate_limited' }), 429],
    ]);
  });

  it('performs the failureRedirect of an auth failure, and answers others as JSON', () => {
    const { calls, host } = recordingAdapter();
    const filter = new PipedriveExceptionFilter(host);
    filter.catch(
      new PipedriveAuthException({ statusCode: 403, error: 'invalid_state', message: 'x' }, '/connect?error=invalid_state'),
      http,
    );
    filter.catch(PipedriveAuthException.of(401, 'session_required', 'y'), http);
    expect(calls).toEqual([
      ['redirect', response, 302, '/connect?error=invalid_state'],
      ['reply', response, { statusCode: 401, error: 'session_required', message: 'y' }, 401],
    ]);
  });

  it('says how to construct it when the HTTP adapter is missing', () => {
    expect(() => new PipedriveExceptionFilter(undefined as unknown as HttpAdapterHost)).toThrow(/app\.get\(HttpAdapterHost\)/);
  });
});
