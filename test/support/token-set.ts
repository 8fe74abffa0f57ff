import type { PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';

/** The token endpoint's JSON as `emu.grant()` returns it (benchmarks make their own). */
export interface GrantAnswer {
  access_token: string;
  refresh_token: string;
  scope: string;
  expires_in: number;
  api_domain: string;
}

/** What the library stores for a token answer; `expiresIn` 0 stores it already expired. */
export function tokenSetOf(grant: GrantAnswer, expiresIn = grant.expires_in): PipedriveTokenSet {
  return {
    accessToken: grant.access_token,
    refreshToken: grant.refresh_token,
    tokenType: 'Bearer',
    expiresIn,
    scopes: grant.scope.split(','),
    apiDomain: grant.api_domain,
  };
}
