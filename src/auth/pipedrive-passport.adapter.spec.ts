import { AuthorizationError, InternalOAuthError } from 'passport-oauth2';
import { describe, expect, it } from 'vitest';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { PipedriveStorageError, PipedriveTokenEndpointError } from '../errors/pipedrive.errors.js';
import { refusal } from './pipedrive-passport.adapter.js';

describe("passport-oauth2's refusals as the library's errors", () => {
  it('answers a denial with 403 user_denied, and any other authorization error with 400 and its plain code', () => {
    expect(refusal(new AuthorizationError('x', 'user_denied', ''), undefined)).toMatchObject({
      body: { statusCode: 403, error: 'user_denied' },
    });
    expect(refusal(new AuthorizationError('x', 'server_error', ''), undefined)).toMatchObject({
      body: { statusCode: 400, error: 'server_error' },
    });
    expect(refusal(new AuthorizationError('x', '<script>', ''), undefined)).toMatchObject({ body: { error: 'authorization_error' } });
  });

  it('hands on the error of the code exchange that passport-oauth2 wrapped', () => {
    const exchange = new PipedriveTokenEndpointError('x', { grant: 'authorization_code', status: 503, transient: true });
    expect(refusal(new InternalOAuthError('Failed to obtain access token', exchange), undefined)).toBe(exchange);
    const storage = new PipedriveStorageError('store an OAuth state', '55000');
    expect(refusal(storage, undefined)).toBe(storage);
  });

  it('answers a refused state with 403 invalid_state and its reason, and a bare failure with 403 access_denied', () => {
    const refused = refusal(null, { code: 'invalid_state', message: 'The state is unknown.' }) as PipedriveAuthException;
    expect(refused.body).toEqual({ statusCode: 403, error: 'invalid_state', message: 'The state is unknown.' });
    expect(refusal(null, { message: 'denied' })).toMatchObject({ body: { statusCode: 403, error: 'access_denied' } });
  });
});
