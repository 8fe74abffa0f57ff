import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectionStore } from '../database/connection.store.js';
import { PipedriveStorageError } from '../errors/pipedrive.errors.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from '../tokens/pipedrive-events.js';
import type { PipedriveConnectionStatus } from '../tokens/pipedrive-token.types.js';
import { clearCookie, cookieName, readCookie, writeCookie } from './cookies.js';
import { signSessionToken, verifySessionToken } from './session-token.js';

/**
 * Why a request has no usable session: no cookie, a bad one (tampered, expired, another secret), its
 * connection unknown or revoked (disconnected, uninstalled), or a later authorization ended it.
 */
export type PipedriveSessionFailure = 'missing' | 'invalid' | 'not_found' | 'revoked' | 'ended';

/** What {@link PipedriveSession.check} says of a request. */
export type PipedriveSessionCheck = { ok: true; connectionId: string } | { ok: false; reason: PipedriveSessionFailure };

interface KnownState {
  /** Null when no such connection is stored. */
  status: PipedriveConnectionStatus | null;
  epoch: string | null;
  checkedAt: number;
}

/**
 * The browser session: a signed, httpOnly, SameSite=Lax cookie (`__Host-` prefixed when Secure) naming
 * the connection and its session epoch. Every authorization writes a new random epoch to the connection
 * row; a cookie is good only while its epoch is the row's and the row is active, so a session dies with
 * its connection (disconnect, uninstall) and with any later authorization of the same user, on every
 * instance. No per-request session storage: each instance keeps the (status, epoch) it last read per
 * connection for `sessionRecheckSeconds`, so the cost is one primary-key read per connection per instance
 * per interval, and another instance stops honouring an ended session within that interval (this
 * instance at once: it drops its copy on the revoke and re-authorization events it emits).
 */
@Injectable()
export class PipedriveSession implements OnModuleDestroy {
  private readonly known = new Map<string, KnownState>();
  private readonly unsubscribe: () => void;

  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
    private readonly store: ConnectionStore,
    events: PipedriveEvents,
  ) {
    this.unsubscribe = events.on((event) => {
      if (event.type === PIPEDRIVE_EVENTS.revoked || event.type === PIPEDRIVE_EVENTS.reauthorized) {
        this.known.delete(event.connectionId);
      }
    });
  }

  /** Stops listening to connection events. */
  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** Name of the session cookie as the browser holds it (`__Host-` prefixed when cookies are Secure). */
  get cookieName(): string {
    return cookieName(this.options.sessionCookieName, this.options.secureCookies);
  }

  /**
   * Starts a new session epoch for `connectionId` (ending every session issued before) and sets the
   * session cookie on the response. Call it once per successful authorization.
   */
  async start(response: ServerResponse, connectionId: string): Promise<void> {
    const epoch = randomBytes(16).toString('base64url');
    await this.store.setSessionEpoch(connectionId, epoch);
    // What was just written is known: the new session needs no read (and works while the database is away).
    this.remember(connectionId, { status: 'active', epoch, checkedAt: this.clock.now() });
    const maxAge = this.options.sessionMaxAgeSeconds;
    const expiresAt = new Date(this.clock.now() + maxAge * 1000);
    const token = signSessionToken({ connectionId, epoch }, expiresAt, this.options.sessionSecret);
    writeCookie(response, this.cookieName, token, { secure: this.options.secureCookies, maxAge });
  }

  /**
   * Whether the request carries a session that is still good: signed, unexpired, and issued by the
   * connection's latest authorization while it is not revoked (as last read, at most `sessionRecheckSeconds` ago).
   * @throws PipedriveStorageError when the connection must be read and the database is down.
   */
  async check(request: IncomingMessage): Promise<PipedriveSessionCheck> {
    const token = readCookie(request, this.cookieName);
    if (token === undefined) return { ok: false, reason: 'missing' };
    const claims = verifySessionToken(token, this.options.sessionSecret, new Date(this.clock.now()));
    if (!claims) return { ok: false, reason: 'invalid' };
    const state = await this.stateOf(claims.connectionId);
    // A connection needing re-authorization is left to TokenService, which says why.
    if (state.status === null) return { ok: false, reason: 'not_found' };
    if (state.status === 'revoked') return { ok: false, reason: 'revoked' };
    if (state.epoch !== claims.epoch) return { ok: false, reason: 'ended' };
    return { ok: true, connectionId: claims.connectionId };
  }

  /** Deletes the session cookie in the browser. */
  end(response: ServerResponse): void {
    clearCookie(response, this.cookieName, this.options.secureCookies);
  }

  private async stateOf(connectionId: string): Promise<KnownState> {
    const now = this.clock.now();
    const cached = this.known.get(connectionId);
    if (cached && now - cached.checkedAt < this.options.sessionRecheckSeconds * 1000) return cached;
    let row: Awaited<ReturnType<ConnectionStore['findSessionState']>>;
    try {
      row = await this.store.findSessionState(connectionId);
    } catch (error) {
      // Database away: nobody can disconnect or uninstall meanwhile either, so the last answer stands
      // (as TokenService keeps serving tokens held in memory). Without one, the storage error goes up (503).
      if (error instanceof PipedriveStorageError && cached) return cached;
      throw error;
    }
    return this.remember(connectionId, { status: row?.status ?? null, epoch: row?.sessionEpoch ?? null, checkedAt: now });
  }

  private remember(connectionId: string, state: KnownState): KnownState {
    this.known.delete(connectionId);
    this.known.set(connectionId, state);
    // Bounded like the token cache: the oldest entry goes (Map keeps insertion order).
    if (this.known.size > Math.max(1, this.options.tokenCacheSize)) this.known.delete(this.known.keys().next().value!);
    return state;
  }
}
