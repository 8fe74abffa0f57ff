import { PipedriveStorageError } from '../errors/pipedrive.errors.js';
import { withBusyRetry } from './sqlite-busy.retry.js';

/** Driver codes are identifiers (`57P01`, `ECONNREFUSED`, `SQLITE_READONLY`); anything else is not echoed. */
const PLAIN_CODE = /^[A-Z0-9_]{1,40}$/i;

/**
 * Every database call of the library goes through here: SQLITE_BUSY is retried first (another
 * process holds the write lock, which passes), and whatever still fails becomes a
 * {@link PipedriveStorageError} naming `operation`, so callers and HTTP answers see one typed error
 * instead of a driver's message that may quote query parameters.
 */
export async function storageCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withBusyRetry(call);
  } catch (error) {
    throw new PipedriveStorageError(operation, driverCode(error), { cause: error });
  }
}

function driverCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && PLAIN_CODE.test(code) ? code : undefined;
}
