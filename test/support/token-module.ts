import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { ConsoleLogger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PIPEDRIVE_OPTIONS } from '../../src/pipedrive.constants.js';
import { type ResolvedPipedriveOptions, resolvePipedriveOptions } from '../../src/pipedrive-auth.options.js';
import { PipedriveEvents } from '../../src/tokens/pipedrive-events.js';
import { PipedriveMetrics } from '../../src/metrics/pipedrive-metrics.js';
import { PipedriveOAuthClient } from '../../src/tokens/pipedrive-oauth.client.js';
import { PipedriveRefreshSweeper } from '../../src/tokens/pipedrive-refresh-sweeper.js';
import { ConnectionStore } from '../../src/database/connection.store.js';
import { PIPEDRIVE_ENTITIES, PIPEDRIVE_MIGRATIONS } from '../../src/database/pipedrive.entities.js';
import { TokenService } from '../../src/tokens/token.service.js';

/** `{ type: 'sqlite', path }` (a file; shared by processes) or `{ type: 'postgres', url }`. */
export type TokenTestDatabase =
  | { type: 'sqlite'; path: string; /** Off: rollback journal and no busy timeout, the SQLITE_BUSY-prone setup. */ plain?: boolean }
  | { type: 'postgres'; url: string };

export const TOKEN_TEST_CLIENT = { clientId: 'tokens-client', clientSecret: 'tokens-secret-0123456789' };
export const TOKEN_TEST_REDIRECT = 'http://127.0.0.1/auth/pipedrive/callback';

/** Every option resolved by the module's own resolver (its defaults, never copies), then `overrides`. */
export function tokenTestOptions(overrides: Partial<ResolvedPipedriveOptions> = {}): ResolvedPipedriveOptions {
  const resolved = resolvePipedriveOptions({
    ...TOKEN_TEST_CLIENT,
    redirectUri: TOKEN_TEST_REDIRECT,
    oauthBaseUrl: 'http://127.0.0.1:9',
    encryptionKey: randomBytes(32).toString('base64'),
    sessionSecret: randomBytes(32).toString('hex'),
  });
  return { ...resolved, ...overrides };
}

export interface TokenModule {
  module: TestingModule;
  tokens: TokenService;
  events: PipedriveEvents;
  oauth: PipedriveOAuthClient;
  /** Inert unless `refreshSweep` is set; `sweep()` runs a pass either way. */
  sweeper: PipedriveRefreshSweeper;
  dataSource: DataSource;
  /** SQL statements this instance has sent so far. */
  queries(): number;
  close(): Promise<void>;
}

/** The tokens part alone: a DataSource that runs the library's migrations, and its providers. */
export async function startTokenModule(
  database: TokenTestDatabase,
  options: ResolvedPipedriveOptions,
  extraImports: unknown[] = [],
): Promise<TokenModule> {
  let queries = 0;
  // TypeORM hands every statement to a custom logger: counting them proves what the cache saves.
  const logger = { logQuery: () => void queries++, logQueryError() {}, logQuerySlow() {}, logSchemaBuild() {}, logMigration() {}, log() {} };
  const common = { migrations: PIPEDRIVE_MIGRATIONS, migrationsRun: true, synchronize: false, logger } as const;
  const dataSource =
    database.type === 'postgres'
      ? { ...common, type: 'postgres' as const, url: database.url }
      : database.plain
        ? { ...common, type: 'sqlite' as const, database: database.path }
        : { ...common, type: 'sqlite' as const, database: database.path, enableWAL: true, busyTimeout: 5_000 };
  const module = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSource, entities: PIPEDRIVE_ENTITIES }),
      TypeOrmModule.forFeature(PIPEDRIVE_ENTITIES),
      ...(extraImports as never[]),
    ],
    providers: [{ provide: PIPEDRIVE_OPTIONS, useValue: options }, TokenService, ConnectionStore, PipedriveOAuthClient, PipedriveEvents, PipedriveMetrics, PipedriveRefreshSweeper],
  })
    .setLogger(new ConsoleLogger({ logLevels: ['error'] }))
    .compile();
  await module.init();
  return {
    module,
    tokens: module.get(TokenService),
    events: module.get(PipedriveEvents),
    oauth: module.get(PipedriveOAuthClient),
    sweeper: module.get(PipedriveRefreshSweeper),
    dataSource: module.get<DataSource>(getDataSourceToken()),
    queries: () => queries,
    close: () => module.close(),
  };
}
