const ATTEMPTS = 20;

/**
 * Retries an operation that failed with SQLITE_BUSY / SQLITE_LOCKED: another process holds the
 * file's write lock. `busyTimeout` on the DataSource makes SQLite wait by itself; this covers
 * apps that did not set it and the cases SQLite refuses to wait (lock upgrades). PostgreSQL never
 * raises these, so the wrapper costs it nothing.
 */
export async function withBusyRetry<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * attempt, 100) + Math.random() * 10));
    }
  }
}

export function isBusy(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /SQLITE_(BUSY|LOCKED)/.test(e?.message ?? '');
}
