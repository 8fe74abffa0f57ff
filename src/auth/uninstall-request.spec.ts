import { describe, expect, it } from 'vitest';
import { hasClientCredentials, parseUninstallBody } from './uninstall-request.js';

const ID = 'client-1';
const SECRET = 'secret-0123456789';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('hasClientCredentials', () => {
  it('accepts exactly this client id and secret', () => {
    expect(hasClientCredentials(basic(`${ID}:${SECRET}`), ID, SECRET)).toBe(true);
    expect(hasClientCredentials(basic(`${ID}:${SECRET}`).replace('Basic', 'basic'), ID, SECRET)).toBe(true);
  });

  it('accepts a secret that itself contains a colon', () => {
    expect(hasClientCredentials(basic(`${ID}:a:b`), ID, 'a:b')).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a Bearer token', `Bearer ${SECRET}`],
    ['a wrong secret', basic(`${ID}:wrong`)],
    ['a secret prefix', basic(`${ID}:${SECRET.slice(0, -1)}`)],
    ['a longer secret', basic(`${ID}:${SECRET}x`)],
    ['a wrong client id', basic(`other:${SECRET}`)],
    ['no colon', basic(`${ID}${SECRET}`)],
    ['an empty secret', basic(`${ID}:`)],
    ['invalid base64', 'Basic ***'],
  ])('refuses %s', (_name, header) => {
    expect(hasClientCredentials(header, ID, SECRET)).toBe(false);
  });
});

describe('parseUninstallBody', () => {
  const body = { client_id: ID, company_id: 77, user_id: 5, timestamp: '2026-01-01T00:00:00Z' };

  it('reads company and user', () => {
    expect(parseUninstallBody(body, ID)).toEqual({ ok: true, request: { clientId: ID, companyId: 77, userId: 5 } });
    expect(parseUninstallBody({ ...body, company_id: '77', user_id: '5' }, ID)).toMatchObject({ ok: true });
  });

  it('refuses another app', () => {
    expect(parseUninstallBody({ ...body, client_id: 'other' }, ID)).toMatchObject({ ok: false, reason: 'client_mismatch' });
  });

  it.each([
    ['no body', undefined],
    ['an array', [body]],
    ['no company', { ...body, company_id: undefined }],
    ['a negative user', { ...body, user_id: -1 }],
    ['a non-numeric company', { ...body, company_id: '7x' }],
    ['no client id', { ...body, client_id: undefined }],
  ])('calls %s malformed', (_name, value) => {
    expect(parseUninstallBody(value, ID)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
