import type { PipedriveEmulator } from '../../src/testing/index.js';
import type { PipedriveConnection, TokenService } from '../../src/index.js';
import { startLibraryContext } from '../../test/support/library-context.js';

export interface TokenInstance {
  tokens: TokenService;
  /** Stores a connection whose access token has already expired. */
  saveExpired(
    user: { companyId: number; userId: number },
    grant: { access_token: string; refresh_token: string; scope: string; api_domain: string },
  ): Promise<PipedriveConnection>;
  close(): Promise<void>;
}

/** One app instance's token store, as several instances behind a load balancer would each have. */
export async function startTokenInstance(options: {
  emulator: PipedriveEmulator;
  client: { clientId: string; clientSecret: string };
  databaseUrl: string;
}): Promise<TokenInstance> {
  const context = await startLibraryContext({
    databaseUrl: options.databaseUrl,
    oauthBaseUrl: options.emulator.url,
    ...options.client,
  });
  return {
    tokens: context.tokens,
    saveExpired: (user, grant) =>
      context.tokens.saveConnection(user, {
        accessToken: grant.access_token,
        refreshToken: grant.refresh_token,
        tokenType: 'Bearer',
        expiresIn: 0,
        scopes: grant.scope.split(','),
        apiDomain: grant.api_domain,
      }),
    close: context.close,
  };
}
