import { describe, expect, it } from 'vitest';
import { oauthErrorOf, parseTokenAnswer } from './token-response.parser.js';

const answer = {
  access_token: 'at',
  refresh_token: 'rt',
  token_type: 'bearer',
  scope: 'base, deals:full,,users:read',
  expires_in: 3599,
  api_domain: 'https://acme.pipedrive.com/',
};

describe('parseTokenAnswer', () => {
  it('accepts Pipedrive answers, lower-case bearer included', () => {
    expect(parseTokenAnswer(answer)).toEqual({
      tokens: {
        accessToken: 'at',
        refreshToken: 'rt',
        tokenType: 'Bearer',
        expiresIn: 3599,
        scopes: ['base', 'deals:full', 'users:read'],
        apiDomain: 'https://acme.pipedrive.com',
      },
    });
  });

  it('keeps the refresh token sent when a refresh answer omits it', () => {
    const { refresh_token: _, ...withoutRefresh } = answer;
    expect(parseTokenAnswer(withoutRefresh, 'old-rt')).toMatchObject({ tokens: { refreshToken: 'old-rt' } });
    expect(parseTokenAnswer(withoutRefresh)).toEqual({ problem: 'unexpected answer (refresh_token)' });
  });

  it.each([
    [{ ...answer, token_type: 'mac' }, 'token_type'],
    [{ ...answer, expires_in: -1 }, 'expires_in'],
    [{ ...answer, api_domain: 'javascript:alert(1)' }, 'api_domain'],
    [{ ...answer, access_token: '' }, 'access_token'],
    [{ ...answer, scope: undefined }, 'scope'],
  ])('refuses %j naming the field, not the value', (body, field) => {
    const parsed = parseTokenAnswer(body);
    expect(parsed).toEqual({ problem: expect.stringContaining(field) });
    expect(JSON.stringify(parsed)).not.toContain('"at"');
  });

  it('refuses bodies that are not objects', () => {
    expect(parseTokenAnswer('<html>')).toHaveProperty('problem');
    expect(parseTokenAnswer(null)).toHaveProperty('problem');
  });
});

describe('oauthErrorOf', () => {
  it('reads only code-shaped error fields', () => {
    expect(oauthErrorOf({ success: false, error: 'invalid_grant' })).toBe('invalid_grant');
    expect(oauthErrorOf({ error: 'Invalid grant: token abc123 is bad' })).toBeUndefined();
    expect(oauthErrorOf('x')).toBeUndefined();
  });
});
