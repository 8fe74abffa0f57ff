import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { PipedriveConfigurationError, PipedriveError, PipedriveReauthorizationRequiredError } from '../errors/pipedrive.errors.js';
import type { PipedriveIdentity } from './pipedrive-token.types.js';

const FORMAT = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A stored token could not be decrypted: unknown key id, wrong row (AAD) or tampered bytes. */
export class TokenDecryptionError extends PipedriveError {
  constructor(readonly reason: 'malformed' | 'unknown_key' | 'authentication_failed') {
    super(`Stored Pipedrive token cannot be decrypted (${reason}); is the key that wrote it in previousEncryptionKeys?`);
  }
}

/**
 * AES-256-GCM for tokens at rest. Output: `v1.<keyId>.<nonce>.<ciphertext>.<tag>` (base64url parts).
 * The key id names the key that wrote it, so keys rotate without a data migration: new writes use
 * `encryptionKey`, old rows stay readable through `previousEncryptionKeys` until they are rewritten.
 * `context` (e.g. `companyId:userId:access`) is bound as AAD so a ciphertext copied to another row fails.
 */
export class TokenCipher {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(encryptionKey: string, previousEncryptionKeys: readonly string[] = []) {
    this.current = loadKey(encryptionKey, 'encryptionKey');
    this.keys.set(this.current.id, this.current.key);
    previousEncryptionKeys.forEach((encoded, i) => {
      const { id, key } = loadKey(encoded, `previousEncryptionKeys[${i}]`);
      if (!this.keys.has(id)) this.keys.set(id, key);
    });
  }

  /** Id of the key new ciphertexts are written with. */
  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string, context: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const header = `${FORMAT}.${this.current.id}`;
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(header, context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [header, b64(nonce), b64(body), b64(cipher.getAuthTag())].join('.');
  }

  decrypt(ciphertext: string, context: string): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw new TokenDecryptionError('malformed');
    const [format, keyId, nonce, body, tag] = parts;
    const key = this.keys.get(keyId);
    if (!key) throw new TokenDecryptionError('unknown_key');
    const tagBytes = Buffer.from(tag, 'base64url');
    const nonceBytes = Buffer.from(nonce, 'base64url');
    if (tagBytes.length !== TAG_BYTES || nonceBytes.length !== NONCE_BYTES) throw new TokenDecryptionError('malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonceBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(`${format}.${keyId}`, context));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenDecryptionError('authentication_failed');
    }
  }

  /** Key id a ciphertext was written with, or undefined if it is not ours. */
  static keyIdOf(ciphertext: string): string | undefined {
    const parts = ciphertext.split('.');
    return parts.length === 5 && parts[0] === FORMAT ? parts[1] : undefined;
  }
}

type TokenField = 'access' | 'refresh';

/**
 * A row's tokens through {@link TokenCipher}, bound to the row's owner and field
 * (`companyId:userId:access`), so ciphertexts cannot be swapped between rows or fields.
 */
export class TokenSealer {
  private readonly logger = new Logger('TokenService');
  /** Key ids already reported: one error line per key, not one per request. */
  private readonly reported = new Set<string>();

  constructor(private readonly cipher: TokenCipher) {}

  seal(owner: PipedriveIdentity, field: TokenField, token: string): string {
    return this.cipher.encrypt(token, sealContext(owner, field));
  }

  /**
   * The plaintext token of a row. A token no configured key can open means the row is lost to this
   * instance; the row is not marked, since the likely cause is a key missing from this deployment.
   */
  open(row: PipedriveConnectionEntity, field: TokenField): string {
    const sealed = field === 'access' ? row.accessToken : row.refreshToken;
    if (!sealed) throw new PipedriveReauthorizationRequiredError(row.id, 'missing_tokens');
    try {
      return this.cipher.decrypt(sealed, sealContext(row, field));
    } catch (error) {
      if (error instanceof TokenDecryptionError) {
        this.report(TokenCipher.keyIdOf(sealed) ?? 'unknown-format', error.reason);
        throw new PipedriveReauthorizationRequiredError(row.id, 'undecryptable');
      }
      throw error;
    }
  }

  /** Tells the operator which key (by its public fingerprint, the key id) this instance is missing, once. */
  private report(keyId: string, reason: TokenDecryptionError['reason']): void {
    if (this.reported.has(keyId)) return;
    this.reported.add(keyId);
    const fix =
      reason === 'unknown_key'
        ? 'add that key to previousEncryptionKeys (PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS) on this instance'
        : 'the stored value was written by another key with the same id or was altered';
    this.logger.error(
      `Stored Pipedrive tokens written with key ${keyId} cannot be decrypted here (${reason}); ${fix}. ` +
        `This instance uses key ${this.cipher.currentKeyId}. Their users get 401 until then; reported once per key.`,
    );
  }
}

function sealContext(owner: PipedriveIdentity, field: TokenField): string {
  return `${owner.companyId}:${owner.userId}:${field}`;
}

/** Public fingerprint of a key: lets a row name its key without revealing it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('nestjs-pipedrive/token-key-id/v1\0').update(key).digest('hex').slice(0, 16);
}

function loadKey(encoded: string, option: string): { id: string; key: Buffer } {
  const key = typeof encoded === 'string' ? Buffer.from(encoded.trim(), 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new PipedriveConfigurationError(
      `${option} must be 32 random bytes, base64-encoded (generate one with \`openssl rand -base64 32\`).`,
    );
  }
  return { id: keyIdOf(key), key };
}

function aad(header: string, context: string): Buffer {
  return Buffer.from(`${header}|${context}`, 'utf8');
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}
