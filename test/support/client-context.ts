import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'typeorm';
import type { PipedriveClient } from '../../src/client/pipedrive.client.js';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import type { PipedriveClock } from '../../src/pipedrive.clock.js';
import type { PipedriveConnection, PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';
import type { TokenService } from '../../src/tokens/token.service.js';
import { startTestApp, type TestDatabase } from './test-app.js';

export const CLIENT_APP = { clientId: 'client-app', clientSecret: 'client-secret', redirectUri: 'http://127.0.0.1/callback' };

/** A token set as the token endpoint would give it, for a server that takes any token (benchmarks). */
export function fixedTokenSet(apiDomain: string, accessToken: string, refreshToken = 'r'): PipedriveTokenSet {
  return { accessToken, refreshToken, tokenType: 'Bearer', scopes: ['base'], expiresIn: 3600, apiDomain };
}

export interface ClientContext {
  app: INestApplicationContext;
  tokens: TokenService;
  client: PipedriveClient;
  /** Stores the tokens (e.g. an emulator grant) as the connection of (companyId, userId). */
  connect(identity: { companyId: number; userId: number }, tokens: PipedriveTokenSet): Promise<PipedriveConnection>;
  close(): Promise<void>;
}

/** PipedriveAuthModule without controller on a fresh SQLite file, migrations run, as an app would use it. */
export async function startClientContext(
  oauthBaseUrl: string,
  options: Partial<PipedriveAuthModuleOptions> = {},
  /** Sees every SQL query (benchmarks count them). */
  logger?: Logger,
  /** Replaces the PipedriveClock provider (a ManualClock in tests); the system clock otherwise. */
  clock?: PipedriveClock,
  /** A database shared with other instances (the caller owns it); a fresh SQLite file otherwise. */
  database?: TestDatabase,
): Promise<ClientContext> {
  const started = await startTestApp({
    options: {
      ...CLIENT_APP,
      oauthBaseUrl,
      encryptionKey: Buffer.alloc(32, 9).toString('base64'),
      sessionSecret: 'x'.repeat(48),
      ...options,
    },
    sqlLogger: logger,
    clock,
    database,
    logLevels: ['error', 'warn'],
  });
  return {
    app: started.app,
    tokens: started.tokens,
    client: started.client,
    connect: (identity, tokenSet) => started.tokens.saveConnection(identity, tokenSet),
    close: () => started.close(),
  };
}
