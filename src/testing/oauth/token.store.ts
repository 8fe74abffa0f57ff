import { randomFillSync } from 'node:crypto';
import type { PipedriveEmulatorClient } from '../emulator.options.js';
import { newRateWindow, type RateWindow } from '../api/rate-limiter.js';

export const DEFAULT_SCOPE = 'base,deals:full,contacts:full,activities:full,leads:full,users:read';

export interface Owner {
  clientId: string;
  companyId: number;
  userId: number;
}

interface CodeGrant extends Owner {
  redirectUri: string;
  expiresAt: number;
}

interface RefreshGrant extends Owner {
  scope: string;
  expiresAt: number;
  accessTokens: Set<string>;
}

export interface AccessGrant extends Owner {
  expiresAt: number;
  refreshToken: string;
  /** Kept on the grant so the rate check costs no second lookup. */
  window: RateWindow;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  scope: string;
  expiresIn: number;
}

export interface TokenLifetimes {
  accessSeconds: number;
  codeSeconds: number;
  refreshSeconds: number;
}

/** Clients, codes and tokens, each in a Map keyed by its value so every check is O(1). */
export class TokenStore {
  private readonly clients = new Map<string, Required<PipedriveEmulatorClient>>();
  private readonly codes = new Map<string, CodeGrant>();
  private readonly access = new Map<string, AccessGrant>();
  private readonly refresh = new Map<string, RefreshGrant>();
  /** Pipedrive keeps the refresh token; some providers issue a new one on every refresh and retire the old. */
  rotateRefreshTokens = false;

  constructor(
    private readonly lifetimes: TokenLifetimes,
    private readonly now: () => number,
  ) {}

  registerClient(client: PipedriveEmulatorClient): void {
    this.clients.set(client.clientId, { scope: DEFAULT_SCOPE, ...client });
  }

  clientIds(): string[] {
    return [...this.clients.keys()];
  }

  client(clientId: string): Required<PipedriveEmulatorClient> | undefined {
    return this.clients.get(clientId);
  }

  /** The client when id and secret match, else undefined. */
  authenticate(clientId: string, secret: string): Required<PipedriveEmulatorClient> | undefined {
    const client = this.clients.get(clientId);
    return client?.clientSecret === secret ? client : undefined;
  }

  issueCode(owner: Owner, redirectUri: string): string {
    const code = token(24);
    this.codes.set(code, { ...owner, redirectUri, expiresAt: this.now() + this.lifetimes.codeSeconds * 1000 });
    return code;
  }

  /** Removes the code whatever happens next: a code is good for one attempt only. */
  takeCode(code: string): CodeGrant | undefined {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    return grant && grant.expiresAt > this.now() ? grant : undefined;
  }

  issue(owner: Owner, accessSeconds = this.lifetimes.accessSeconds): IssuedTokens {
    const scope = this.clients.get(owner.clientId)?.scope ?? DEFAULT_SCOPE;
    const refreshToken = `${owner.companyId}:${owner.userId}:${token(30)}`;
    const grant: RefreshGrant = { ...owner, scope, expiresAt: 0, accessTokens: new Set() };
    this.refresh.set(refreshToken, grant);
    return this.renew(refreshToken, grant, accessSeconds);
  }

  /** A new access token for a live refresh token of this client; the refresh token stays the same unless rotating. */
  refreshFor(refreshToken: string, clientId: string): IssuedTokens | undefined {
    const grant = this.refresh.get(refreshToken);
    if (!grant || grant.clientId !== clientId) return undefined;
    if (grant.expiresAt <= this.now()) {
      this.revokeRefresh(refreshToken);
      return undefined;
    }
    if (!this.rotateRefreshTokens) return this.renew(refreshToken, grant, this.lifetimes.accessSeconds);
    const rotated = `${grant.companyId}:${grant.userId}:${token(30)}`;
    this.refresh.delete(refreshToken);
    this.refresh.set(rotated, grant);
    for (const accessToken of grant.accessTokens) {
      const access = this.access.get(accessToken);
      if (access) access.refreshToken = rotated;
    }
    return this.renew(rotated, grant, this.lifetimes.accessSeconds);
  }

  /** The live grant behind an access token; expired ones are dropped on sight. */
  findAccess(accessToken: string): AccessGrant | undefined {
    const grant = this.access.get(accessToken);
    if (grant && grant.expiresAt <= this.now()) {
      this.access.delete(accessToken);
      return undefined;
    }
    return grant;
  }

  /** The owner of a refresh or access token, whichever it is. */
  ownerOf(tokenValue: string): Owner | undefined {
    return this.refresh.get(tokenValue) ?? this.access.get(tokenValue);
  }

  /** Revoking a refresh token kills its access tokens too (that is an uninstall). */
  revoke(tokenValue: string): void {
    if (this.refresh.has(tokenValue)) this.revokeRefresh(tokenValue);
    else this.access.delete(tokenValue);
  }

  invalidateAccessTokens(companyId?: number): void {
    for (const [value, grant] of this.access) {
      if (companyId === undefined || grant.companyId === companyId) this.access.delete(value);
    }
  }

  revokeRefreshTokens(companyId?: number): void {
    for (const [value, grant] of this.refresh) {
      if (companyId === undefined || grant.companyId === companyId) this.refresh.delete(value);
    }
  }

  /** Every live refresh token of one user of one app (for uninstall). */
  refreshTokensOf(owner: Owner): string[] {
    const found: string[] = [];
    for (const [value, g] of this.refresh) {
      if (g.clientId === owner.clientId && g.companyId === owner.companyId && g.userId === owner.userId) found.push(value);
    }
    return found;
  }

  private renew(refreshToken: string, grant: RefreshGrant, accessSeconds: number): IssuedTokens {
    const now = this.now();
    grant.expiresAt = now + this.lifetimes.refreshSeconds * 1000;
    for (const old of grant.accessTokens) if (!this.access.has(old)) grant.accessTokens.delete(old);
    const accessToken = `v1u:${token(192)}`;
    const { clientId, companyId, userId } = grant;
    const expiresAt = now + accessSeconds * 1000;
    this.access.set(accessToken, { clientId, companyId, userId, refreshToken, expiresAt, window: newRateWindow() });
    grant.accessTokens.add(accessToken);
    return { accessToken, refreshToken, scope: grant.scope, expiresIn: accessSeconds };
  }

  private revokeRefresh(refreshToken: string): void {
    const grant = this.refresh.get(refreshToken);
    this.refresh.delete(refreshToken);
    for (const accessToken of grant?.accessTokens ?? []) this.access.delete(accessToken);
  }
}

// Tokens are cut from a pooled random buffer: a benchmark issuing 10,000 grants makes no 20,000 syscalls.
const pool = Buffer.alloc(64 * 1024);
let poolOffset = pool.length;

function token(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.toString('base64url', poolOffset - bytes, poolOffset);
}
