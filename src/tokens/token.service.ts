import { Injectable, Logger } from '@nestjs/common';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveConnectionNotFoundError, PipedriveError, PipedriveTokenEndpointError } from '../errors/pipedrive.errors.js';
import { ConnectionStore } from '../database/connection.store.js';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from './pipedrive-events.js';
import { PipedriveOAuthClient } from './pipedrive-oauth.client.js';
import type {
  GetAccessTokenOptions,
  PipedriveAccessToken,
  PipedriveConnection,
  PipedriveIdentity,
  PipedriveTokenSet,
} from './pipedrive-token.types.js';
import { TokenCache } from './token-cache.js';
import { TokenCipher, TokenSealer } from './token-cipher.js';
import { refreshAt, TokenRefresher } from './token-refresher.js';
import { PipedriveMetrics } from '../metrics/pipedrive-metrics.js';

/**
 * Stores connections and hands out valid access tokens. Valid tokens come from memory; due ones
 * are refreshed once per process (single-flight) and once across instances (database lease).
 */
@Injectable()
export class TokenService {
  private readonly logger = new Logger('TokenService');
  private readonly sealer: TokenSealer;
  private readonly cache: TokenCache;
  private readonly refresher: TokenRefresher;
  private readonly inFlight = new Map<string, Promise<PipedriveAccessToken>>();
  private readonly disconnectHooks = new Set<(connection: PipedriveConnection) => Promise<void>>();

  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    private readonly store: ConnectionStore,
    private readonly oauth: PipedriveOAuthClient,
    private readonly events: PipedriveEvents,
    private readonly metrics: PipedriveMetrics,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {
    this.sealer = new TokenSealer(new TokenCipher(options.encryptionKey, options.previousEncryptionKeys));
    this.cache = new TokenCache(options.tokenCacheSize);
    this.refresher = new TokenRefresher(
      this.store,
      this.sealer,
      oauth,
      events,
      this.cache,
      {
        marginMs: options.refreshMarginSeconds * 1000,
        leaseMs: options.refreshLeaseSeconds * 1000,
        requestTimeoutMs: options.tokenRequestTimeoutMs,
      },
      clock,
      metrics,
    );
  }

  /** Stores the tokens of a (company, user); authorizing the same pair again updates its row. */
  async saveConnection(identity: PipedriveIdentity, tokens: PipedriveTokenSet): Promise<PipedriveConnection> {
    assertIdentity(identity);
    const now = this.clock.now();
    const expiresAt = now + tokens.expiresIn * 1000;
    const fields = {
      apiDomain: tokens.apiDomain,
      scopes: tokens.scopes,
      accessToken: this.sealer.seal(identity, 'access', tokens.accessToken),
      refreshToken: this.sealer.seal(identity, 'refresh', tokens.refreshToken),
      tokenIssuedAt: now,
      expiresAt,
      status: 'active' as const,
      leaseOwner: null,
      leaseUntil: null,
      refreshFailures: 0,
      refreshBackoffUntil: null,
      updatedAt: now,
    };
    const existing = await this.store.findByUser(identity.companyId, identity.userId);
    const { row, created } = existing
      ? { row: existing, created: false }
      : await this.store.insertOrGet({ ...identity, ...fields, version: 0, createdAt: now });
    if (!created) await this.store.update(row.id, {}, { ...fields, version: () => 'version + 1' });
    const saved = { ...row, ...fields };
    this.cache.set(
      {
        connectionId: row.id,
        companyId: identity.companyId,
        userId: identity.userId,
        accessToken: tokens.accessToken,
        apiDomain: tokens.apiDomain,
        expiresAt,
      },
      refreshAt(now, expiresAt, this.options.refreshMarginSeconds * 1000),
    );
    const type = created ? PIPEDRIVE_EVENTS.created : PIPEDRIVE_EVENTS.reauthorized;
    this.events.emit({ type, connectionId: row.id, companyId: identity.companyId, userId: identity.userId });
    return toConnection(saved);
  }

  /**
   * A valid access token. Pass `rejectedToken` after a 401 with it: the token is refreshed unless
   * the stored one already differs, so concurrent 401s share one refresh.
   */
  getAccessToken(connectionId: string, opts?: GetAccessTokenOptions): Promise<PipedriveAccessToken> {
    const rejected = opts?.rejectedToken;
    if (rejected === undefined) {
      const hit = this.cache.fresh(connectionId, this.clock.now());
      this.metrics.tokenCache(hit !== undefined);
      if (hit) return Promise.resolve(this.handOut(hit));
    } else {
      const known = this.cache.peek(connectionId);
      if (known?.accessToken === rejected) this.cache.delete(connectionId);
      else if (known && this.clock.now() < known.expiresAt) return Promise.resolve(this.handOut(known));
    }
    return this.singleFlight(connectionId, rejected).then((token) => this.handOut(token));
  }

  /**
   * Refreshes the connection now if its token is due (as getAccessToken would), but skips it when it
   * is not due, is backing off, is no longer active, or a refresh is already running here or on another
   * instance: never waits. True when this call refreshed it. Used by {@link PipedriveRefreshSweeper},
   * which passes the row it selected (saving a read; a row that changed since only loses the lease race).
   * @throws PipedriveReauthorizationRequiredError when Pipedrive refuses the refresh token (`invalid_grant`).
   */
  refreshIfDue(connection: string | PipedriveConnectionEntity): Promise<boolean> {
    const id = typeof connection === 'string' ? connection : connection.id;
    if (this.inFlight.has(id)) return Promise.resolve(false);
    return this.refresher.refreshIfDue(connection);
  }

  /** The connection with this id, without tokens; null when there is none. */
  async findConnection(id: string): Promise<PipedriveConnection | null> {
    const row = await this.store.findById(id);
    return row && toConnection(row);
  }

  /** The connection of this Pipedrive user of this company, without tokens; null when there is none. */
  async findConnectionByUser(companyId: number, userId: number): Promise<PipedriveConnection | null> {
    const row = await this.store.findByUser(companyId, userId);
    return row && toConnection(row);
  }

  /**
   * Revokes the refresh token at Pipedrive (which uninstalls the app for the user), then erases the
   * tokens. If Pipedrive cannot be reached the tokens are kept and the error thrown, so it can be retried.
   */
  async disconnect(connectionId: string): Promise<void> {
    const row = await this.store.findById(connectionId);
    if (!row) throw new PipedriveConnectionNotFoundError(`connection ${connectionId}`);
    // While the tokens still work: e.g. the webhooks module deletes the connection's webhooks.
    await Promise.allSettled([...this.disconnectHooks].map((hook) => hook(toConnection(row))));
    if (row.refreshToken) {
      try {
        await this.oauth.revoke(this.sealer.open(row, 'refresh'), 'refresh_token');
      } catch (error) {
        if (!alreadyInvalid(error)) throw error;
      }
    }
    await this.erase(row, 'disconnected');
  }

  /**
   * Runs `hook` in {@link disconnect} before the tokens are revoked, while they still work. A failing
   * hook does not stop the disconnect. Returns the function that removes the hook.
   */
  onBeforeDisconnect(hook: (connection: PipedriveConnection) => Promise<void>): () => void {
    this.disconnectHooks.add(hook);
    return () => void this.disconnectHooks.delete(hook);
  }

  /** Pipedrive's uninstall notice: erases the tokens. True if the connection existed. */
  async uninstall(companyId: number, userId: number): Promise<boolean> {
    const row = await this.store.findByUser(companyId, userId);
    if (!row) return false;
    await this.erase(row, 'uninstalled');
    return true;
  }

  private async erase(row: PipedriveConnectionEntity, reason: 'disconnected' | 'uninstalled'): Promise<void> {
    await this.store.update(
      row.id,
      {},
      {
        status: 'revoked',
        accessToken: null,
        refreshToken: null,
        leaseOwner: null,
        leaseUntil: null,
        version: () => 'version + 1',
        updatedAt: this.clock.now(),
      },
    );
    this.cache.delete(row.id);
    if (row.status === 'revoked') return;
    const { id: connectionId, companyId, userId } = row;
    this.events.emit({ type: PIPEDRIVE_EVENTS.revoked, connectionId, companyId, userId, reason });
  }

  /**
   * The first hand-out of each token is recorded in its row (one conditional UPDATE, not awaited), so
   * every instance's sweep knows the connection is in use and refreshes it ahead; an unused one is
   * left for `keepAliveDays`. A failed write only costs that: the caller's own refresh-ahead still works.
   */
  private handOut(token: PipedriveAccessToken): PipedriveAccessToken {
    if (this.cache.firstUse(token.connectionId)) {
      this.store.recordUse(token.connectionId, this.clock.now()).catch((error: unknown) => {
        this.logger.warn(`Could not record the use of Pipedrive connection ${token.connectionId}: ${(error as Error)?.name ?? 'Error'}`);
      });
    }
    return token;
  }

  private singleFlight(connectionId: string, rejected?: string): Promise<PipedriveAccessToken> {
    const running = this.inFlight.get(connectionId);
    if (running) {
      // A flight that started before this 401 may still return the rejected token: go again once.
      return running.then((token) =>
        rejected !== undefined && token.accessToken === rejected ? this.singleFlight(connectionId, rejected) : token,
      );
    }
    const flight = this.refresher.resolve(connectionId, rejected).finally(() => this.inFlight.delete(connectionId));
    this.inFlight.set(connectionId, flight);
    return flight;
  }
}

/** The public view of a row: everything but tokens and refresh bookkeeping. */
function toConnection(row: PipedriveConnectionEntity): PipedriveConnection {
  return {
    id: row.id,
    companyId: row.companyId,
    userId: row.userId,
    apiDomain: row.apiDomain,
    scopes: [...row.scopes],
    status: row.status,
    expiresAt: new Date(row.expiresAt),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

/** Pipedrive says the token is already dead: revocation has nothing left to do. */
function alreadyInvalid(error: unknown): boolean {
  const code = error instanceof PipedriveTokenEndpointError ? error.details.oauthError : undefined;
  return code === 'invalid_grant' || code === 'invalid_token';
}

function assertIdentity({ companyId, userId }: PipedriveIdentity): void {
  if (!Number.isSafeInteger(companyId) || !Number.isSafeInteger(userId) || companyId <= 0 || userId <= 0) {
    throw new PipedriveError('A Pipedrive connection needs positive integer companyId and userId.');
  }
}
