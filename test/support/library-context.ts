import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { typeOrmOptions } from '../../src/app/database/typeorm-options.js';
import { parseDatabaseUrl } from '../../src/app/config/app-config.js';
import {
  PipedriveAuthModule,
  PipedriveClient,
  TokenService,
  type PipedriveAuthModuleOptions,
} from '../../src/index.js';

export interface LibraryContextOptions {
  /** `sqlite:PATH` or `postgres://...` */
  databaseUrl: string;
  oauthBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Shared by every instance on one database, or they cannot read each other's tokens. */
  encryptionKey?: string;
  options?: Partial<PipedriveAuthModuleOptions>;
}

export interface LibraryContext {
  app: INestApplicationContext;
  tokens: TokenService;
  client: PipedriveClient;
  dataSource: DataSource;
  close(): Promise<void>;
}

@Module({})
class LibraryHostModule {}

export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** The library as an app without HTTP uses it: a DataSource, PipedriveAuthModule, no controller. */
export async function startLibraryContext(options: LibraryContextOptions): Promise<LibraryContext> {
  const pipedrive = PipedriveAuthModule.forRoot({
      controller: false,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUri: 'http://127.0.0.1/auth/pipedrive/callback',
      oauthBaseUrl: options.oauthBaseUrl,
      encryptionKey: options.encryptionKey ?? TEST_ENCRYPTION_KEY,
      sessionSecret: randomBytes(32).toString('hex'),
      ...options.options,
    });
  const database = TypeOrmModule.forRoot(typeOrmOptions(parseDatabaseUrl(options.databaseUrl)));
  const app = await NestFactory.createApplicationContext(
    { module: LibraryHostModule, imports: [database, pipedrive] },
    { logger: ['error', 'warn'] },
  );
  return {
    app,
    tokens: app.get(TokenService),
    client: app.get(PipedriveClient),
    dataSource: app.get<DataSource>(getDataSourceToken()),
    close: () => app.close(),
  };
}
