import { Logger } from '@nestjs/common';
import { PipedriveReauthorizationRequiredError } from '../errors/pipedrive.errors.js';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import type { PipedriveIdentity } from './pipedrive-token.types.js';
import { TokenCipher, TokenDecryptionError } from './token-cipher.js';

type TokenField = 'access' | 'refresh';

/** Encrypts a row's tokens bound to the row's owner and field, so ciphertexts cannot be swapped. */
export class TokenSealer {
  private readonly logger = new Logger('TokenService');
  /** Key ids already reported: one error line per key, not one per request. */
  private readonly reported = new Set<string>();

  constructor(private readonly cipher: TokenCipher) {}

  seal(owner: PipedriveIdentity, field: TokenField, token: string): string {
    return this.cipher.encrypt(token, context(owner, field));
  }

  /**
   * The plaintext token of a row. A token no configured key can open means the row is lost to this
   * instance; the row is not marked, since the likely cause is a key missing from this deployment.
   */
  open(row: PipedriveConnectionEntity, field: TokenField): string {
    const sealed = field === 'access' ? row.accessToken : row.refreshToken;
    if (!sealed) throw new PipedriveReauthorizationRequiredError(row.id, 'missing_tokens');
    try {
      return this.cipher.decrypt(sealed, context(row, field));
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

function context(owner: PipedriveIdentity, field: TokenField): string {
  return `${owner.companyId}:${owner.userId}:${field}`;
}
