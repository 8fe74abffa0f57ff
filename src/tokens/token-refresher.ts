import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  PipedriveConnectionNotFoundError,
  PipedriveReauthorizationRequiredError,
  PipedriveTokenEndpointError,
} from '../errors/pipedrive.errors.js';
import type { ConnectionStore } from '../database/connection.store.js';
import type { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { PIPEDRIVE_EVENTS, type PipedriveEvents } from './pipedrive-events.js';
import type { PipedriveOAuthClient } from './pipedrive-oauth.client.js';
import type { PipedriveAccessToken, PipedriveTokenSet } from './pipedrive-token.types.js';
import type { PipedriveClock } from '../pipedrive.clock.js';
import type { TokenCache } from './token-cache.js';
import type { TokenSealer } from './token-cipher.js';
import type { PipedriveMetrics } from '../metrics/pipedrive-metrics.js';

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

export interface RefreshTiming {
  marginMs: number;
  leaseMs: number;
  requestTimeoutMs: number;
}

type Row = PipedriveConnectionEntity;

/**
 * The slow path of getAccessToken: reads the row and, when the token is due, refreshes it under a
 * database lease so that one instance among many calls Pipedrive. The lease is a conditional UPDATE
 * (free or expired, version unchanged); losers poll the row and take the winner's token. A crashed
 * holder's lease expires after `leaseMs`. Token writes are compare-and-set on the version. Every
 * decision by time (due, backing off, lease free, how long to wait for a holder) reads `clock`.
 */
export class TokenRefresher {
  private readonly logger = new Logger('TokenService');

  constructor(
    private readonly store: ConnectionStore,
    private readonly sealer: TokenSealer,
    private readonly oauth: PipedriveOAuthClient,
    private readonly events: PipedriveEvents,
    private readonly cache: TokenCache,
    private readonly timing: RefreshTiming,
    private readonly clock: PipedriveClock,
    private readonly metrics?: PipedriveMetrics,
  ) {}

  async resolve(id: string, rejected?: string): Promise<PipedriveAccessToken> {
    const deadline = this.clock.now() + this.timing.leaseMs + this.timing.requestTimeoutMs + 5_000;
    for (let attempt = 0; ; attempt++) {
      const row = await this.load(id);
      const access = this.sealer.open(row, 'access');
      const now = this.clock.now();
      const usable = now < row.expiresAt && access !== rejected;
      const due = refreshAt(row.tokenIssuedAt, row.expiresAt, this.timing.marginMs);
      if (usable && now < due) return this.remember(row, access, due);
      const backoffUntil = row.refreshBackoffUntil ?? 0;
      if (now < backoffUntil) {
        if (usable) return this.remember(row, access, Math.min(backoffUntil, row.expiresAt));
        throw backingOff(row, backoffUntil - now);
      }
      const owner = await this.takeLease(row, now);
      if (owner) return this.refreshLeased(row, owner, usable ? access : undefined, rejected);
      // Another instance is refreshing: a still-valid token serves meanwhile, otherwise wait for theirs.
      if (usable) return this.remember(row, access, Math.min(now + 1_000, row.expiresAt));
      if (this.clock.now() > deadline) throw waitedTooLong(id);
      await this.clock.sleep(Math.round(Math.min(25 * 1.5 ** attempt, 250) * (0.75 + Math.random() / 2)));
    }
  }

  /**
   * The sweep's path: refreshes the connection (an id, or a row just read) if its token is due, and skips it (false) when it is not, is
   * backing off, is no longer active, or another instance holds its lease: never waits for a holder.
   * True when this call refreshed it; a failed refresh throws as in resolve().
   */
  async refreshIfDue(connection: string | Row): Promise<boolean> {
    const row = typeof connection === 'string' ? await this.store.findById(connection) : connection;
    if (!row || row.status !== 'active') return false;
    const now = this.clock.now();
    if (now < refreshAt(row.tokenIssuedAt, row.expiresAt, this.timing.marginMs)) return false;
    if (now < (row.refreshBackoffUntil ?? 0)) return false;
    const owner = await this.takeLease(row, now);
    if (!owner) return false;
    // No still-valid fallback: a failed refresh must be reported, not answered with the old token.
    await this.refreshLeased(row, owner, undefined);
    return true;
  }

  /** One conditional UPDATE: the lease is ours if it was free or expired and the row unchanged. */
  private async takeLease(row: Row, now: number): Promise<string | undefined> {
    const owner = randomUUID();
    const lease = { leaseOwner: owner, leaseUntil: now + this.timing.leaseMs };
    return (await this.store.update(row.id, { version: row.version, leaseFreeAt: now }, lease)) ? owner : undefined;
  }

  /** `stillValid`: the current access token, handed out if the refresh fails transiently. */
  private async refreshLeased(row: Row, owner: string, stillValid: string | undefined, rejected?: string) {
    let refreshToken: string;
    try {
      refreshToken = this.sealer.open(row, 'refresh');
    } catch (error) {
      await this.store.update(row.id, { leaseOwner: owner }, { leaseOwner: null, leaseUntil: null });
      throw error;
    }
    let tokens: PipedriveTokenSet;
    try {
      tokens = await this.oauth.refresh(refreshToken);
    } catch (error) {
      if (isInvalidGrant(error)) return this.requireReauthorization(row, rejected);
      return this.backOff(row, owner, error, stillValid);
    }
    return this.writeTokens(row, tokens, rejected);
  }

  /** Writes the new tokens if nobody wrote newer ones since the lease was taken. */
  private async writeTokens(row: Row, tokens: PipedriveTokenSet, rejected?: string): Promise<PipedriveAccessToken> {
    const now = this.clock.now();
    const expiresAt = now + tokens.expiresIn * 1000;
    const written = await this.store.update(
      row.id,
      { version: row.version },
      {
        accessToken: this.sealer.seal(row, 'access', tokens.accessToken),
        // Re-sealed even when unchanged: moves the row to the current key after a rotation.
        refreshToken: this.sealer.seal(row, 'refresh', tokens.refreshToken),
        apiDomain: tokens.apiDomain,
        scopes: tokens.scopes,
        tokenIssuedAt: now,
        expiresAt,
        version: row.version + 1,
        leaseOwner: null,
        leaseUntil: null,
        refreshFailures: 0,
        refreshBackoffUntil: null,
        updatedAt: now,
      },
    );
    if (!written) return this.resolve(row.id, rejected);
    const reason = rejected !== undefined ? 'rejected' : now >= row.expiresAt ? 'expired' : 'refresh_ahead';
    this.events.emit({ type: PIPEDRIVE_EVENTS.refreshed, connectionId: row.id, ...identityOf(row), reason });
    const fresh = { ...row, apiDomain: tokens.apiDomain, expiresAt };
    return this.remember(fresh, tokens.accessToken, refreshAt(now, expiresAt, this.timing.marginMs));
  }

  /** invalid_grant: unless someone refreshed meanwhile, the user must authorize again. */
  private async requireReauthorization(row: Row, rejected?: string): Promise<PipedriveAccessToken> {
    const current = await this.store.findById(row.id);
    if (current && current.version !== row.version) return this.resolve(row.id, rejected);
    const marked = await this.store.update(
      row.id,
      { version: row.version },
      {
        status: 'reauthorization_required',
        // The refresh token is dead; the access token is dropped with it rather than kept at rest.
        accessToken: null,
        refreshToken: null,
        version: row.version + 1,
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: this.clock.now(),
      },
    );
    if (!marked) return this.resolve(row.id, rejected);
    this.cache.delete(row.id);
    const event = PIPEDRIVE_EVENTS.reauthorizationRequired;
    this.events.emit({ type: event, connectionId: row.id, ...identityOf(row), reason: 'invalid_grant' });
    throw new PipedriveReauthorizationRequiredError(row.id, 'invalid_grant');
  }

  /** Failures other than invalid_grant: remember a growing pause so no instance hammers Pipedrive. */
  private async backOff(row: Row, leaseOwner: string, error: unknown, stillValid: string | undefined) {
    const now = this.clock.now();
    const failures = row.refreshFailures + 1;
    const until = now + refreshBackoffMs(failures);
    await this.store.update(
      row.id,
      { version: row.version, leaseOwner },
      { refreshFailures: failures, refreshBackoffUntil: until, leaseOwner: null, leaseUntil: null },
    );
    const what = error instanceof PipedriveTokenEndpointError ? error.message : (error as Error)?.name;
    const endpoint = error instanceof PipedriveTokenEndpointError;
    this.metrics?.tokenRefreshFailed(endpoint ? (error.details.status === undefined ? 'network' : 'token_endpoint') : 'other');
    this.logger.warn(`Refreshing Pipedrive connection ${row.id} failed: ${what} Next attempt in ${until - now} ms.`);
    if (stillValid !== undefined) return this.remember(row, stillValid, Math.min(until, row.expiresAt));
    throw error;
  }

  private async load(id: string): Promise<Row> {
    const row = await this.store.findById(id);
    if (!row) {
      this.cache.delete(id);
      throw new PipedriveConnectionNotFoundError(`connection ${id}`);
    }
    if (row.status !== 'active') {
      this.cache.delete(id);
      throw new PipedriveReauthorizationRequiredError(id, row.status === 'revoked' ? 'revoked' : 'invalid_grant');
    }
    return row;
  }

  private remember(row: Row, accessToken: string, freshUntil: number): PipedriveAccessToken {
    const token = { connectionId: row.id, ...identityOf(row), accessToken, apiDomain: row.apiDomain, expiresAt: row.expiresAt };
    return this.cache.set(token, freshUntil);
  }
}

function identityOf(row: Row) {
  return { companyId: row.companyId, userId: row.userId };
}

function isInvalidGrant(error: unknown): boolean {
  return error instanceof PipedriveTokenEndpointError && error.details.oauthError === 'invalid_grant';
}

function backingOff(row: Row, waitMs: number): PipedriveTokenEndpointError {
  return new PipedriveTokenEndpointError(
    `Refreshing Pipedrive connection ${row.id} failed ${row.refreshFailures} time(s) in a row; ` +
      `the next attempt is allowed in ${waitMs} ms.`,
    { grant: 'refresh_token', transient: true },
  );
}

function waitedTooLong(id: string): PipedriveTokenEndpointError {
  return new PipedriveTokenEndpointError(`Timed out waiting for another instance to refresh Pipedrive connection ${id}.`, {
    grant: 'refresh_token',
    transient: true,
  });
}
