import type { PipedriveAccessToken } from './pipedrive-token.types.js';

interface Entry {
  token: PipedriveAccessToken;
  /** Until then the token is handed out without looking at the database. */
  freshUntil: number;
  /** This instance already recorded a use of this token in the database. */
  useRecorded: boolean;
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

  /**
   * True the first time it is asked for the cached token, false afterwards (and when nothing is
   * cached): whoever gets true records the use, so the database hears of each token once per instance.
   */
  firstUse(connectionId: string): boolean {
    const entry = this.entries.get(connectionId);
    if (!entry || entry.useRecorded) return false;
    entry.useRecorded = true;
    return true;
  }

  set(token: PipedriveAccessToken, freshUntil: number): PipedriveAccessToken {
    const frozen = Object.freeze({ ...token });
    const previous = this.entries.get(token.connectionId);
    // The same token cached again (e.g. re-read from the row) keeps its recorded use.
    const useRecorded = previous?.token.accessToken === token.accessToken && previous.useRecorded;
    this.entries.delete(token.connectionId);
    this.entries.set(token.connectionId, { token: frozen, freshUntil, useRecorded });
    if (this.entries.size > this.maxSize) this.entries.delete(this.entries.keys().next().value!);
    return frozen;
  }

  delete(connectionId: string): void {
    this.entries.delete(connectionId);
  }
}
