import { describe, expect, it } from 'vitest';
import { signSessionToken, verifySessionToken } from './session-token.js';

const SECRET = 'a-session-secret-of-at-least-32-characters';
const ID = '0b7c4f0e-6a51-4b8e-9d3c-2f1a7e5d9c11';
// A fixed instant: expiry is decided against the `now` given, never the wall clock.
const NOW = new Date(Date.UTC(2026, 0, 1));
const inAnHour = () => new Date(NOW.getTime() + 3_600_000);

describe('session token', () => {
  it('verifies to the connection id it was signed for', () => {
    expect(verifySessionToken(signSessionToken(ID, inAnHour(), SECRET), SECRET, NOW)).toBe(ID);
  });

  it('is refused under another secret', () => {
    expect(verifySessionToken(signSessionToken(ID, inAnHour(), SECRET), `${SECRET}-rotated`, NOW)).toBeUndefined();
  });

  it('is refused once expired', () => {
    const token = signSessionToken(ID, new Date(NOW.getTime() + 1_000), SECRET);
    expect(verifySessionToken(token, SECRET, new Date(NOW.getTime() + 999))).toBe(ID);
    expect(verifySessionToken(token, SECRET, new Date(NOW.getTime() + 1_000))).toBeUndefined();
  });

  it('refuses a token naming another connection', () => {
    const [, expires, signature] = signSessionToken(ID, inAnHour(), SECRET).split('.');
    const other = '11111111-2222-3333-4444-555555555555';
    expect(verifySessionToken(`${other}.${expires}.${signature}`, SECRET, NOW)).toBeUndefined();
  });

  it('refuses a pushed-back expiry', () => {
    const [id, expires, signature] = signSessionToken(ID, inAnHour(), SECRET).split('.');
    expect(verifySessionToken(`${id}.${Number(expires) + 86_400}.${signature}`, SECRET, NOW)).toBeUndefined();
  });

  it.each([
    ['a flipped signature character', (t: string) => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.at(-1)],
    // The last base64url character carries spare bits that decoding ignores.
    ['a changed last character', (t: string) => t.slice(0, -1) + (t.at(-1) === 'A' ? 'B' : 'A')],
    ['a truncated signature', (t: string) => t.slice(0, -4)],
    ['a missing signature', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['an extra part', (t: string) => `${t}.x`],
    ['an empty value', () => ''],
    ['garbage', () => 'not-a-token'],
  ])('refuses %s', (_name, tamper) => {
    expect(verifySessionToken(tamper(signSessionToken(ID, inAnHour(), SECRET)), SECRET, NOW)).toBeUndefined();
  });

  it('does not carry the secret', () => {
    expect(signSessionToken(ID, inAnHour(), SECRET)).not.toContain(SECRET);
  });
});
