import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';
import { TokenCipher, TokenDecryptionError, keyIdOf } from './token-cipher.js';

const key = () => randomBytes(32).toString('base64');
const TOKEN = 'v1u:AQIBAHj.' + 'x'.repeat(700);

describe('TokenCipher', () => {
  it('round-trips a token and hides it', () => {
    const cipher = new TokenCipher(key());
    const sealed = cipher.encrypt(TOKEN, '1:2:access');
    expect(sealed).not.toContain(TOKEN.slice(0, 12));
    expect(cipher.decrypt(sealed, '1:2:access')).toBe(TOKEN);
  });

  it('uses a fresh nonce for every write', () => {
    const cipher = new TokenCipher(key());
    const a = cipher.encrypt(TOKEN, 'ctx');
    const b = cipher.encrypt(TOKEN, 'ctx');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('names the key that wrote a ciphertext by its fingerprint', () => {
    const current = key();
    const cipher = new TokenCipher(current);
    expect(TokenCipher.keyIdOf(cipher.encrypt(TOKEN, 'ctx'))).toBe(keyIdOf(Buffer.from(current, 'base64')));
    expect(cipher.currentKeyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reads ciphertexts of a previous key after rotation and writes with the new one', () => {
    const oldKey = key();
    const sealed = new TokenCipher(oldKey).encrypt(TOKEN, 'ctx');
    const rotated = new TokenCipher(key(), [oldKey]);
    expect(rotated.decrypt(sealed, 'ctx')).toBe(TOKEN);
    expect(TokenCipher.keyIdOf(rotated.encrypt(TOKEN, 'ctx'))).toBe(rotated.currentKeyId);
    expect(rotated.currentKeyId).not.toBe(TokenCipher.keyIdOf(sealed));
  });

  it('refuses a ciphertext whose key is no longer configured', () => {
    const sealed = new TokenCipher(key()).encrypt(TOKEN, 'ctx');
    expect(() => new TokenCipher(key()).decrypt(sealed, 'ctx')).toThrow(expect.objectContaining({ reason: 'unknown_key' }));
  });

  it('refuses tampered bytes', () => {
    const cipher = new TokenCipher(key());
    const parts = cipher.encrypt(TOKEN, 'ctx').split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[5] ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'ctx')).toThrow(TokenDecryptionError);
  });

  it('refuses a ciphertext moved to another row (AAD) or another field', () => {
    const cipher = new TokenCipher(key());
    const sealed = cipher.encrypt(TOKEN, '1:2:access');
    expect(() => cipher.decrypt(sealed, '1:3:access')).toThrow(expect.objectContaining({ reason: 'authentication_failed' }));
    expect(() => cipher.decrypt(sealed, '1:2:refresh')).toThrow(TokenDecryptionError);
  });

  it('refuses a forged key id', () => {
    const a = key();
    const b = key();
    const cipher = new TokenCipher(a, [b]);
    const parts = cipher.encrypt(TOKEN, 'ctx').split('.');
    parts[1] = keyIdOf(Buffer.from(b, 'base64'));
    expect(() => cipher.decrypt(parts.join('.'), 'ctx')).toThrow(TokenDecryptionError);
  });

  it('rejects keys that are not 32 bytes without echoing them', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    expect(() => new TokenCipher(short)).toThrow(PipedriveConfigurationError);
    expect(() => new TokenCipher(short)).toThrow(/encryptionKey/);
    expect(() => new TokenCipher(key(), [short])).toThrow(/previousEncryptionKeys\[0\]/);
    try {
      new TokenCipher(short);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });
});
