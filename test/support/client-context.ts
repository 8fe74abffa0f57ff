import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'typeorm';
import { PipedriveClient } from '../../src/client/pipedrive.client.js';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import { PipedriveAuthModule } from '../../src/pipedrive-auth.module.js';
import { PipedriveClock } from '../../src/pipedrive.clock.js';
import { PIPEDRIVE_MIGRATIONS } from '../../src/database/pipedrive.entities.js';
import type { PipedriveConnection, PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';
import { TokenService } from '../../src/tokens/token.service.js';

export const CLIENT_APP = { clientId: 'client-app', clientSecret: 'client-secret', redirectUri: 'http://127.0.0.1/callback' };

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
): Promise<ClientContext> {
  const dir = mkdtempSync(join(tmpdir(), 'npd-client-'));
  const database = TypeOrmModule.forRoot({
    type: 'sqlite',
    database: join(dir, 'pipedrive.sqlite'),
    autoLoadEntities: true,
    migrations: PIPEDRIVE_MIGRATIONS,
    migrationsRun: true,
    enableWAL: true,
    busyTimeout: 5_000,
    ...(logger && { logger, logging: ['query'] as const }),
  });
  const pipedrive = PipedriveAuthModule.forRoot({
    controller: false,
    ...CLIENT_APP,
    oauthBaseUrl,
    encryptionKey: Buffer.alloc(32, 9).toString('base64'),
    sessionSecret: 'x'.repeat(48),
    ...options,
  });
  const builder = Test.createTestingModule({ imports: [database, pipedrive] });
  if (clock) builder.overrideProvider(PipedriveClock).useValue(clock);
  const app = await (await builder.compile()).init();
  const tokens = app.get(TokenService);
  return {
    app,
    tokens,
    client: app.get(PipedriveClient),
    connect: (identity, tokenSet) => tokens.saveConnection(identity, tokenSet),
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
