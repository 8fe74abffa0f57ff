import { PipedriveReauthorizationRequiredError } from '../errors/pipedrive.errors.js';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import type { PipedriveIdentity } from './pipedrive-token.types.js';
import { TokenCipher, TokenDecryptionError } from './token-cipher.js';

type TokenField = 'access' | 'refresh';

/** Encrypts a row's tokens bound to the row's owner and field, so ciphertexts cannot be swapped. */
export class TokenSealer {
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
      if (error instanceof TokenDecryptionError) throw new PipedriveReauthorizationRequiredError(row.id, 'undecryptable');
      throw error;
    }
  }
}

function context(owner: PipedriveIdentity, field: TokenField): string {
  return `${owner.companyId}:${owner.userId}:${field}`;
}
