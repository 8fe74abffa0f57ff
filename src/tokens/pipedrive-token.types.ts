/** Lifecycle of a stored connection. */
export type PipedriveConnectionStatus = 'active' | 'reauthorization_required' | 'revoked';

/** Tokens as Pipedrive's token endpoint returned them, parsed. */
export interface PipedriveTokenSet {
  accessToken: string;
  refreshToken: string;
  /** Always `Bearer` (Pipedrive also sends `bearer`). */
  tokenType: 'Bearer';
  /** Lifetime of the access token in seconds, as sent in `expires_in`. */
  expiresIn: number;
  /** Pipedrive's comma-separated `scope`, split. */
  scopes: string[];
  /** Base URL of the company's API, e.g. `https://acme.pipedrive.com`. */
  apiDomain: string;
}

/** A stored connection of one Pipedrive user of one company. Never carries tokens. */
export interface PipedriveConnection {
  id: string;
  companyId: number;
  userId: number;
  apiDomain: string;
  scopes: string[];
  status: PipedriveConnectionStatus;
  /** When the current access token expires. */
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A usable access token and where to send it. */
export interface PipedriveAccessToken {
  connectionId: string;
  /** The connection's company: the client books the daily budget per company. */
  companyId: number;
  userId: number;
  accessToken: string;
  apiDomain: string;
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

/** Who a connection belongs to. */
export interface PipedriveIdentity {
  companyId: number;
  userId: number;
}

/** Options of `TokenService.getAccessToken`. */
export interface GetAccessTokenOptions {
  /** The access token that just got a 401: refresh unless the stored token already differs. */
  rejectedToken?: string;
}
