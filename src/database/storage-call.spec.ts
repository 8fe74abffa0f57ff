import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { PipedriveStorageError } from '../errors/pipedrive.errors.js';
import { storageCall } from './storage-call.js';

const driverError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('storageCall', () => {
  it('retries SQLITE_BUSY before anything is reported', async () => {
    let calls = 0;
    const result = await storageCall('read a connection', async () => {
      if (++calls < 3) throw driverError('SQLITE_BUSY', 'SQLITE_BUSY: database is locked');
      return 'row';
    });
    expect(result).toBe('row');
    expect(calls).toBe(3);
  });

  it('passes a false answer (a guard that did not hold) through as an answer', async () => {
    await expect(storageCall('update a connection', async () => false)).resolves.toBe(false);
  });

  it('turns a failed query into PipedriveStorageError without quoting its parameters', async () => {
    const ciphertext = 'k1.bm9uY2U.Y2lwaGVydGV4dA';
    const failed = new QueryFailedError(
      'UPDATE "pipedrive_connection" SET "access_token" = $1',
      [ciphertext],
      driverError('SQLITE_READONLY', `SQLITE_READONLY: attempt to write a readonly database (${ciphertext})`),
    );
    const error = await storageCall('update a connection', () => Promise.reject(failed)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipedriveStorageError);
    expect(error).toMatchObject({ operation: 'update a connection', code: 'SQLITE_READONLY', cause: failed });
    expect((error as Error).message).toMatch(/database is unavailable: could not update a connection \(SQLITE_READONLY\)/);
    expect((error as Error).message).not.toContain(ciphertext);
  });

  it('wraps connection failures of the pool and does not echo an odd code', async () => {
    const refused = driverError('connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED 127.0.0.1:5432');
    const error = await storageCall('read a connection', () => Promise.reject(refused)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PipedriveStorageError', code: undefined, cause: refused });
  });
});
