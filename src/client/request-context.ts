import type { PipedriveClientOptions } from '../pipedrive-auth.options.js';
import type { GetAccessTokenOptions, PipedriveAccessToken } from '../tokens/pipedrive-token.types.js';
import type { HttpPools } from './http-pools.js';
import type { RateLimiters } from './rate-limiters.js';

/** What a request needs from TokenService: a valid token, and a fresh one after a 401. */
export interface AccessTokenSource {
  getAccessToken(connectionId: string, options?: GetAccessTokenOptions): Promise<PipedriveAccessToken>;
}

/** Shared by every bound client of one PipedriveClient. */
export interface RequestContext {
  readonly tokens: AccessTokenSource;
  readonly pools: HttpPools;
  readonly limiters: RateLimiters;
  readonly options: Required<PipedriveClientOptions>;
  /** Told when Pipedrive answers 402 for a connection, so the app can hear of it (an event). */
  readonly onPaymentRequired?: (connectionId: string) => void;
}
