import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  PipedriveApiError,
  PipedriveConfigurationError,
  PipedriveConnectionNotFoundError,
  PipedriveNetworkError,
  PipedriveRateLimitError,
  PipedriveReauthorizationRequiredError,
  PipedriveStorageError,
  PipedriveTimeoutError,
  PipedriveTokenEndpointError,
} from './pipedrive.errors.js';
import { PipedriveAuthException, withErrorCode } from './pipedrive-auth.exception.js';
import { pipedriveErrorResponse } from './pipedrive-error.response.js';

const call = { method: 'GET', path: '/api/v2/deals' };

describe('pipedriveErrorResponse', () => {
  it.each([
    [new PipedriveReauthorizationRequiredError('c1', 'invalid_grant'), 401, 'reauthorization_required'],
    [new PipedriveConnectionNotFoundError('c1'), 401, 'connection_not_found'],
    [new PipedriveTokenEndpointError('x', { grant: 'refresh_token', status: 503, transient: true }), 502, 'token_refresh_failed'],
    [new PipedriveTokenEndpointError('x', { grant: 'revoke', status: 500, transient: true }), 502, 'revoke_failed'],
    [new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 502, transient: true }), 502, 'token_exchange_failed'],
    [
      new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 400, oauthError: 'invalid_grant', transient: false }),
      400,
      'invalid_grant',
    ],
    [
      new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 401, oauthError: 'invalid_client', transient: false }),
      502,
      'token_exchange_failed',
    ],
    [new PipedriveApiError('x', { ...call, status: 404, error: 'Deal not found' }), 502, 'pipedrive_api_error'],
    [new PipedriveRateLimitError('x', { ...call, status: 429 }), 429, 'rate_limited'],
    [new PipedriveTimeoutError('x', call), 504, 'pipedrive_timeout'],
    [new PipedriveNetworkError('x', call), 502, 'pipedrive_unreachable'],
    [new PipedriveStorageError('read a connection', '57P01'), 503, 'storage_unavailable'],
    [new PipedriveConfigurationError('option "x" is wrong'), 500, 'internal_error'],
  ])('answers %o with %i %s', (error, status, code) => {
    const { body } = pipedriveErrorResponse(error);
    expect(body.statusCode).toBe(status);
    expect(body.error).toBe(code);
    expect(body.message).toEqual(expect.any(String));
  });

  it("passes Pipedrive's status and error through for API errors", () => {
    const error = new PipedriveApiError('Pipedrive GET /api/v2/deals/9 answered 404: Deal not found', {
      ...call,
      status: 404,
      error: 'Deal not found',
      requestId: 'r-1',
    });
    expect(pipedriveErrorResponse(error).body).toMatchObject({ pipedrive: { status: 404, error: 'Deal not found', requestId: 'r-1' } });
  });

  it('tells a rate-limited caller when to come back', () => {
    const error = new PipedriveRateLimitError('x', { ...call, status: 429, rateLimit: { resetSeconds: 1.2 } });
    expect(pipedriveErrorResponse(error).headers).toEqual({ 'retry-after': '2' });
  });

  it('hides the message of configuration errors', () => {
    expect(pipedriveErrorResponse(new PipedriveConfigurationError('option "x"')).body.message).not.toContain('option');
  });

  it("answers a storage failure without the driver's message or the failed operation", () => {
    const cause = new Error('duplicate key value (ciphertext k1.c2VjcmV0)');
    const { body } = pipedriveErrorResponse(new PipedriveStorageError('update a connection', 'XX000', { cause }));
    expect(body).toEqual({ statusCode: 503, error: 'storage_unavailable', message: expect.any(String) });
    expect(JSON.stringify(body)).not.toMatch(/ciphertext|update a connection|XX000/);
  });
});

describe('PipedriveAuthException.from', () => {
  const down = () => new PipedriveStorageError('store an OAuth state', '55000');
  const quiet = () => ({
    warn: vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {}),
    error: vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {}),
  });
  afterEach(() => vi.restoreAllMocks());

  it('answers 503 storage_unavailable to a database failure, and logs it', () => {
    const logged = quiet();
    const exception = PipedriveAuthException.from(down());
    expect(exception.getStatus()).toBe(503);
    expect(exception.body).toMatchObject({ statusCode: 503, error: 'storage_unavailable' });
    expect(exception.redirectTo).toBeUndefined();
    expect(logged.warn).toHaveBeenCalledWith(expect.stringMatching(/PipedriveStorageError: The database is unavailable/));
  });

  it('sends the browser to failureRedirect with error=<code>', () => {
    quiet();
    expect(PipedriveAuthException.from(down(), '/connect?from=app').redirectTo).toBe('/connect?from=app&error=storage_unavailable');
    const refused = PipedriveAuthException.of(403, 'invalid_state', 'x');
    expect(PipedriveAuthException.from(refused, '/connect').redirectTo).toBe('/connect?error=invalid_state');
    expect(PipedriveAuthException.from(refused)).toBe(refused);
  });

  it("answers 500 server_error to errors that are not the library's, without their message", () => {
    const logged = quiet();
    const exception = PipedriveAuthException.from(new TypeError('boom at secret-place'));
    expect(exception.getStatus()).toBe(500);
    expect(exception.body).toMatchObject({ statusCode: 500, error: 'server_error' });
    expect(JSON.stringify(exception.body)).not.toContain('secret-place');
    expect(logged.error).toHaveBeenCalledOnce();
  });
});

describe('withErrorCode', () => {
  it('appends the code to a path, keeping its query', () => {
    expect(withErrorCode('/connect?from=app', 'invalid_state')).toBe('/connect?from=app&error=invalid_state');
  });

  it('appends the code to an absolute URL', () => {
    expect(withErrorCode('https://app.example.com/x#top', 'user_denied')).toBe('https://app.example.com/x?error=user_denied#top');
  });
});
