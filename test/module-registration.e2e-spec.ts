import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PIPEDRIVE_MIGRATIONS,
  PIPEDRIVE_OPTION_DEFAULTS,
  PIPEDRIVE_OPTIONS,
  PipedriveAuthModule,
  type PipedriveAuthModuleOptions,
  PipedriveClient,
  PipedriveConfigurationError,
  type ResolvedPipedriveOptions,
  TokenService,
} from '../src/index.js';

/** The registrations README shows: forRoot, and forRootAsync with useFactory (@nestjs/config), useClass, useExisting. */
const dir = mkdtempSync(join(tmpdir(), 'npd-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV = {
  PIPEDRIVE_CLIENT_ID: 'registration-client',
  PIPEDRIVE_CLIENT_SECRET: 'registration-secret',
  PIPEDRIVE_REDIRECT_URI: 'https://app.example.com/auth/pipedrive/callback',
  PIPEDRIVE_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
  SESSION_SECRET: 's'.repeat(40),
};

const OPTIONS: PipedriveAuthModuleOptions = {
  clientId: ENV.PIPEDRIVE_CLIENT_ID,
  clientSecret: ENV.PIPEDRIVE_CLIENT_SECRET,
  redirectUri: ENV.PIPEDRIVE_REDIRECT_URI,
  encryptionKey: ENV.PIPEDRIVE_ENCRYPTION_KEY,
  sessionSecret: ENV.SESSION_SECRET,
};

@Injectable()
class PipedriveOptionsFactory {
  create(): PipedriveAuthModuleOptions {
    return { ...OPTIONS, refreshMarginSeconds: 120 };
  }
}

@Module({ providers: [PipedriveOptionsFactory], exports: [PipedriveOptionsFactory] })
class OptionsModule {}

@Module({})
class HostModule {}

let databases = 0;

async function boot(pipedrive: DynamicModule) {
  const database = TypeOrmModule.forRoot({
    type: 'sqlite',
    database: join(dir, `db-${databases++}.sqlite`),
    autoLoadEntities: true,
    migrations: PIPEDRIVE_MIGRATIONS,
    migrationsRun: true,
  });
  const app = await NestFactory.createApplicationContext(
    { module: HostModule, imports: [database, pipedrive] },
    { logger: false, abortOnError: false },
  );
  const options = app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS);
  expect(app.get(TokenService)).toBeInstanceOf(TokenService);
  expect(app.get(PipedriveClient)).toBeInstanceOf(PipedriveClient);
  await app.close();
  return options;
}

describe('registering PipedriveAuthModule', () => {
  it('forRoot fills the defaults', async () => {
    const options = await boot(PipedriveAuthModule.forRoot({ ...OPTIONS, controller: false }));
    const { refreshSweep: _sweepDefaults, metrics: _metricsDefaults, ...defaults } = PIPEDRIVE_OPTION_DEFAULTS;
    expect(options).toMatchObject({ ...defaults, clientId: 'registration-client', secureCookies: true });
  });

  it('forRootAsync with useFactory reads @nestjs/config', async () => {
    const options = await boot(
      PipedriveAuthModule.forRootAsync({
        controller: false,
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ENV] })],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          clientId: config.getOrThrow<string>('PIPEDRIVE_CLIENT_ID'),
          clientSecret: config.getOrThrow<string>('PIPEDRIVE_CLIENT_SECRET'),
          redirectUri: config.getOrThrow<string>('PIPEDRIVE_REDIRECT_URI'),
          encryptionKey: config.getOrThrow<string>('PIPEDRIVE_ENCRYPTION_KEY'),
          sessionSecret: config.getOrThrow<string>('SESSION_SECRET'),
        }),
      }),
    );
    expect(options.clientId).toBe('registration-client');
  });

  it('forRootAsync with useClass and with useExisting', async () => {
    const byClass = await boot(PipedriveAuthModule.forRootAsync({ controller: false, useClass: PipedriveOptionsFactory }));
    expect(byClass.refreshMarginSeconds).toBe(120);
    const byExisting = await boot(
      PipedriveAuthModule.forRootAsync({ controller: false, imports: [OptionsModule], useExisting: PipedriveOptionsFactory }),
    );
    expect(byExisting.refreshMarginSeconds).toBe(120);
  });

  it('a factory returning a wrong option stops start-up with a message naming it, not its value', async () => {
    const failure = await boot(
      PipedriveAuthModule.forRootAsync({
        controller: false,
        useFactory: () => ({ ...OPTIONS, encryptionKey: 'too-short-secret-key' }),
      }),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PipedriveConfigurationError);
    expect((failure as Error).message).toContain('option "encryptionKey"');
    expect((failure as Error).message).not.toContain('too-short-secret-key');
  });
});
