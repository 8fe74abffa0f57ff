import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplication, Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PipedriveAuthModule } from '../../src/pipedrive-auth.module.js';
import { PipedriveClock } from '../../src/pipedrive.clock.js';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import { PIPEDRIVE_MIGRATIONS } from '../../src/database/pipedrive.entities.js';
import { PipedriveEmulator } from '../../src/testing/index.js';
import { freePort } from './free-port.js';

export interface AuthTestApp {
  url: string;
  client: { clientId: string; clientSecret: string };
  emulator: PipedriveEmulator;
  app: INestApplication;
  dataSource: DataSource;
  close(): Promise<void>;
}

export interface AuthTestAppOptions {
  options?: Partial<PipedriveAuthModuleOptions>;
  /** false: mount `controllers` instead of the built-in controller. */
  controller?: boolean;
  controllers?: Type[];
  emulator?: PipedriveEmulator;
  /** Replaces the module's PipedriveClock (e.g. a ManualClock), as an app's test would. */
  clock?: PipedriveClock;
  /** Path of the callback route. @default '/auth/pipedrive/callback' */
  redirectPath?: string;
  /** Extra providers of the app module (e.g. services its `controllers` use). */
  providers?: Type[];
}

/**
 * A minimal app around PipedriveAuthModule alone (no reference app): SQLite file in a temp dir,
 * the module's own controller, the emulator. For options the reference app does not expose.
 */
export async function startAuthTestApp(setup: AuthTestAppOptions = {}): Promise<AuthTestApp> {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}${setup.redirectPath ?? '/auth/pipedrive/callback'}`;
  const emulator = setup.emulator ?? (await PipedriveEmulator.start());
  // One client per app: apps sharing an emulator each register their own callback URL.
  const client = { clientId: `auth-test-client-${port}`, clientSecret: randomBytes(16).toString('hex') };
  emulator.registerApp({ ...client, redirectUri });
  const dir = mkdtempSync(join(tmpdir(), 'npd-auth-'));
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'sqlite',
        database: join(dir, 'db.sqlite'),
        autoLoadEntities: true,
        migrations: PIPEDRIVE_MIGRATIONS,
        migrationsRun: true,
      }),
      PipedriveAuthModule.forRoot({
        ...client,
        redirectUri,
        oauthBaseUrl: emulator.url,
        encryptionKey: randomBytes(32).toString('base64'),
        sessionSecret: randomBytes(32).toString('hex'),
        controller: setup.controller ?? true,
        isGlobal: true,
        ...setup.options,
      }),
    ],
    controllers: setup.controllers ?? [],
    providers: setup.providers ?? [],
  })
  class AuthTestModule {}
  // No exception filter is installed: the module's routes and guards must answer on their own.
  const testing = Test.createTestingModule({ imports: [AuthTestModule] });
  if (setup.clock) testing.overrideProvider(PipedriveClock).useValue(setup.clock);
  const app = (await testing.compile()).createNestApplication({ logger: ['error', 'warn'], abortOnError: false });
  await app.listen(port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    client,
    emulator,
    app,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    close: async () => {
      await app.close();
      if (!setup.emulator) await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
