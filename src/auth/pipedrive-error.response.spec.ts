import { describe, expect, it } from 'vitest';
import {
  PipedriveApiError,
  PipedriveConfigurationError,
  PipedriveConnectionNotFoundError,
  PipedriveNetworkError,
  PipedriveRateLimitError,
  PipedriveReauthorizationRequiredError,
  PipedriveTimeoutError,
  PipedriveTokenEndpointError,
} from '../pipedrive.errors.js';
import { withErrorCode } from './auth-failure.js';
import { pipedriveErrorResponse } from './pipedrive-error.response.js';

const call = { method: 'GET', path: '/api/v2/deals' };

describe('pipedriveErrorResponse', () => {
  it.each([
    [new PipedriveReauthorizationRequiredError('c1', 'invalid_grant'), 401, 'reauthorization_required'],
    [new PipedriveConnectionNotFoundError('c1'), 401, 'connection_not_found'],
    [new PipedriveTokenEndpointError('x', { grant: 'refresh_token', status: 503, transient: true }), 502, 'token_refresh_failed'],
    [new PipedriveTokenEndpointError('x', { grant: 'revoke', status: 500, transient: true }), 502, 'revoke_failed'],
    [new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 502, transient: true }), 502, 'token_exchange_failed'],
    [new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 400, oauthError: 'invalid_grant', transient: false }), 400, 'invalid_grant'],
    [new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 401, oauthError: 'invalid_client', transient: false }), 502, 'token_exchange_failed'],
    [new PipedriveApiError('x', { ...call, status: 404, error: 'Deal not found' }), 502, 'pipedrive_api_error'],
    [new PipedriveRateLimitError('x', { ...call, status: 429 }), 429, 'rate_limited'],
    [new PipedriveTimeoutError('x', call), 504, 'pipedrive_timeout'],
    [new PipedriveNetworkError('x', call), 502, 'pipedrive_unreachable'],
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
});

describe('withErrorCode', () => {
  it('appends the code to a path, keeping its query', () => {
    expect(withErrorCode('/connect?from=app', 'invalid_state')).toBe('/connect?from=app&error=invalid_state');
  });

  it('appends the code to an absolute URL', () => {
    expect(withErrorCode('https://app.example.com/x#top', 'user_denied')).toBe('https://app.example.com/x?error=user_denied#top');
  });
});
