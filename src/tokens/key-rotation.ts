import type { DataSource } from 'typeorm';
import { ConnectionStore } from '../database/connection.store.js';
import { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { PipedriveReauthorizationRequiredError } from '../errors/pipedrive.errors.js';
import { TokenCipher, TokenSealer } from './token-cipher.js';

/** What {@link rotatePipedriveEncryptionKeys} needs: the keys as PipedriveAuthModule takes them. */
export interface PipedriveKeyRotationOptions {
  /** The key every row ends up under (the module's `encryptionKey`). */
  encryptionKey: string;
  /** Every key some row may still be under (the module's `previousEncryptionKeys`). @default [] */
  previousEncryptionKeys?: readonly string[];
  /**
   * Rows read per query; each row is then one conditional UPDATE, so a SQLite writer is never held long.
   * @default 200
   */
  batchSize?: number;
}

/** Outcome of a rotation run; `busy` and `undecryptable` rows still need attention before a key is retired. */
export interface PipedriveKeyRotationSummary {
  /** Rows holding tokens that were looked at. */
  scanned: number;
  /** Rows rewritten under the current key. */
  rewritten: number;
  /** Rows already under the current key. */
  current: number;
  /** Rows that kept changing under us (a refresh in progress); run again to finish them. */
  busy: number;
  /** Rows no configured key opens: the key that wrote them is missing from the options. */
  undecryptable: number;
  /** The key id every row should now carry. */
  currentKeyId: string;
}

/** Compare-and-set attempts per row before it is left for the next run. */
const ATTEMPTS_PER_ROW = 3;

/**
 * Re-encrypts every stored token under `encryptionKey`, so the keys in `previousEncryptionKeys` can
 * be retired once a run reports `busy: 0, undecryptable: 0`. Safe while the app serves traffic: each
 * row is rewritten by one UPDATE guarded by its `version` and a free refresh lease, exactly as the
 * token store writes, so a refresh in flight wins and the row is simply read again.
 */
export async function rotatePipedriveEncryptionKeys(
  dataSource: DataSource,
  options: PipedriveKeyRotationOptions,
): Promise<PipedriveKeyRotationSummary> {
  const cipher = new TokenCipher(options.encryptionKey, options.previousEncryptionKeys);
  const sealer = new TokenSealer(cipher);
  const store = new ConnectionStore(dataSource.getRepository(PipedriveConnectionEntity));
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a whole number >= 1.');
  const summary: PipedriveKeyRotationSummary = {
    scanned: 0,
    rewritten: 0,
    current: 0,
    busy: 0,
    undecryptable: 0,
    currentKeyId: cipher.currentKeyId,
  };
  for (let afterId = ''; ;) {
    const rows = await store.pageWithTokens(afterId, batchSize);
    for (const row of rows) {
      summary.scanned += 1;
      summary[await rotateRow(store, sealer, cipher.currentKeyId, row)] += 1;
    }
    if (rows.length < batchSize) return summary;
    afterId = rows.at(-1)!.id;
  }
}

type Outcome = 'rewritten' | 'current' | 'busy' | 'undecryptable';

async function rotateRow(
  store: ConnectionStore,
  sealer: TokenSealer,
  currentKeyId: string,
  first: PipedriveConnectionEntity,
): Promise<Outcome> {
  let row: PipedriveConnectionEntity | null = first;
  for (let attempt = 0; attempt < ATTEMPTS_PER_ROW && row; attempt++) {
    const sealed = [row.accessToken, row.refreshToken].filter((value): value is string => value !== null);
    if (sealed.every((value) => TokenCipher.keyIdOf(value) === currentKeyId)) return 'current';
    let patch: { accessToken: string | null; refreshToken: string | null };
    try {
      patch = {
        accessToken: row.accessToken === null ? null : sealer.seal(row, 'access', sealer.open(row, 'access')),
        refreshToken: row.refreshToken === null ? null : sealer.seal(row, 'refresh', sealer.open(row, 'refresh')),
      };
    } catch (error) {
      if (error instanceof PipedriveReauthorizationRequiredError) return 'undecryptable';
      throw error;
    }
    // updatedAt stays: the tokens did not change, only the key they are kept under.
    const written = await store.update(row.id, { version: row.version, leaseFreeAt: Date.now() }, { ...patch, version: row.version + 1 });
    if (written) return 'rewritten';
    row = await store.findById(row.id);
  }
  return row ? 'busy' : 'current';
}
