import type { PipedriveAccessToken } from './pipedrive-token.types.js';

interface Entry {
  token: PipedriveAccessToken;
  /** Until then the token is handed out without looking at the database. */
  freshUntil: number;
}

/** Bounded LRU of decrypted access tokens: the hot path of getAccessToken. */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxSize: number) {}

  /** The token if it is still fresh at `now`. */
  fresh(connectionId: string, now: number): PipedriveAccessToken | undefined {
    const entry = this.entries.get(connectionId);
    if (!entry || now >= entry.freshUntil) return undefined;
    // Re-insert: Map keeps insertion order, so the first key is the least recently used.
    this.entries.delete(connectionId);
    this.entries.set(connectionId, entry);
    return entry.token;
  }

  /** The token regardless of freshness. */
  peek(connectionId: string): PipedriveAccessToken | undefined {
    return this.entries.get(connectionId)?.token;
  }

  set(token: PipedriveAccessToken, freshUntil: number): PipedriveAccessToken {
    const frozen = Object.freeze({ ...token });
    this.entries.delete(token.connectionId);
    this.entries.set(token.connectionId, { token: frozen, freshUntil });
    if (this.entries.size > this.maxSize) this.entries.delete(this.entries.keys().next().value!);
    return frozen;
  }

  delete(connectionId: string): void {
    this.entries.delete(connectionId);
  }
}
