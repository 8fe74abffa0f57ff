const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

/**
 * When a token should be refreshed: `marginMs` before expiry, but never earlier than half its
 * lifetime, so tokens shorter than the margin are not refreshed on every call.
 */
export function refreshAt(issuedAt: number, expiresAt: number, marginMs: number): number {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  return expiresAt - Math.min(marginMs, lifetime / 2);
}

/** Wait after the n-th consecutive failed refresh: 1 s, 2 s, 4 s ... capped at 60 s. */
export function refreshBackoffMs(failures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
