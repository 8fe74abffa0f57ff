import { describe, expect, it } from 'vitest';
import { signSessionToken, verifySessionToken } from './session-token.js';

const SECRET = 'a-session-secret-of-at-least-32-characters';
const ID = '0b7c4f0e-6a51-4b8e-9d3c-2f1a7e5d9c11';
const EPOCH = 'Zk3q9v2LxT0aB7cD8eF1gH';
const CLAIMS = { connectionId: ID, epoch: EPOCH };
// A fixed instant: expiry is decided against the `now` given, never the wall clock.
const NOW = new Date(Date.UTC(2026, 0, 1));
const inAnHour = () => new Date(NOW.getTime() + 3_600_000);

describe('session token', () => {
  it('verifies to the connection id it was signed for', () => {
    expect(verifySessionToken(signSessionToken(CLAIMS, inAnHour(), SECRET), SECRET, NOW)).toEqual(CLAIMS);
  });

  it('is refused under another secret', () => {
    expect(verifySessionToken(signSessionToken(CLAIMS, inAnHour(), SECRET), `${SECRET}-rotated`, NOW)).toBeUndefined();
  });

  it('is refused once expired', () => {
    const token = signSessionToken(CLAIMS, new Date(NOW.getTime() + 1_000), SECRET);
    expect(verifySessionToken(token, SECRET, new Date(NOW.getTime() + 999))).toEqual(CLAIMS);
    expect(verifySessionToken(token, SECRET, new Date(NOW.getTime() + 1_000))).toBeUndefined();
  });

  it('refuses a token naming another connection', () => {
    const [, epoch, expires, signature] = signSessionToken(CLAIMS, inAnHour(), SECRET).split('.');
    const other = '11111111-2222-3333-4444-555555555555';
    expect(verifySessionToken(`${other}.${epoch}.${expires}.${signature}`, SECRET, NOW)).toBeUndefined();
  });

  it('refuses a token claiming another session epoch', () => {
    const [id, , expires, signature] = signSessionToken(CLAIMS, inAnHour(), SECRET).split('.');
    expect(verifySessionToken(`${id}.AAAAAAAAAAAAAAAAAAAAAA.${expires}.${signature}`, SECRET, NOW)).toBeUndefined();
  });

  it('refuses a pushed-back expiry', () => {
    const [id, epoch, expires, signature] = signSessionToken(CLAIMS, inAnHour(), SECRET).split('.');
    expect(verifySessionToken(`${id}.${epoch}.${Number(expires) + 86_400}.${signature}`, SECRET, NOW)).toBeUndefined();
  });

  it.each([
    ['a flipped signature character', (t: string) => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.at(-1)],
    // The last base64url character carries spare bits that decoding ignores.
    ['a changed last character', (t: string) => t.slice(0, -1) + (t.at(-1) === 'A' ? 'B' : 'A')],
    ['a truncated signature', (t: string) => t.slice(0, -4)],
    ['a missing signature', (t: string) => t.split('.').slice(0, 3).join('.')],
    ['an extra part', (t: string) => `${t}.x`],
    ['an empty value', () => ''],
    ['garbage', () => 'not-a-token'],
  ])('refuses %s', (_name, tamper) => {
    expect(verifySessionToken(tamper(signSessionToken(CLAIMS, inAnHour(), SECRET)), SECRET, NOW)).toBeUndefined();
  });

  it('does not carry the secret', () => {
    expect(signSessionToken(CLAIMS, inAnHour(), SECRET)).not.toContain(SECRET);
  });
});
