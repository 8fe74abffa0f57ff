import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app/app.module.js';
import type { Env } from '../../src/app/config/app-config.js';
import { configureApp } from '../../src/app/configure-app.js';
import { PipedriveClock } from '../../src/pipedrive.clock.js';
import { PipedriveEmulator } from '../../src/testing/index.js';
import { freePort } from './free-port.js';

export const TEST_CLIENT = { clientId: 'test-client-id', clientSecret: 'test-client-secret-0123456789' };

export interface ReferenceAppOptions {
  /** `sqlite:PATH` or `postgres://...` */
  databaseUrl: string;
  /** Reuse an emulator (e.g. across a restart); a new one is started otherwise and closed with the app. */
  emulator?: PipedriveEmulator;
  /** Extra environment variables, e.g. PIPEDRIVE_REQUIRE_STATE=false. */
  env?: Env;
  /** The app's public callback URL, when it is not this instance's own (several instances behind one URL). */
  redirectUri?: string;
  /** Replaces the library's clock (a `ManualClock`), as an app's test would override the provider. */
  clock?: PipedriveClock;
}

export interface ReferenceApp {
  url: string;
  emulator: PipedriveEmulator;
  app: INestApplication;
  dataSource: DataSource;
  /** Stops the app and starts it again on the same database, port, keys and emulator; this object then names the new one. */
  restart(): Promise<ReferenceApp>;
  close(): Promise<void>;
}

/** Boots the reference app exactly as main.ts does, on a real port, against the emulator. */
export async function startReferenceApp(options: ReferenceAppOptions): Promise<ReferenceApp> {
  const port = await freePort();
  const redirectUri = options.redirectUri ?? `http://127.0.0.1:${port}/auth/pipedrive/callback`;
  const ownEmulator = !options.emulator;
  const emulator = options.emulator ?? (await PipedriveEmulator.start({ apps: [{ ...TEST_CLIENT, redirectUri }] }));
  if (!ownEmulator) emulator.registerApp({ ...TEST_CLIENT, redirectUri });
  const env: Env = {
    NODE_ENV: 'test',
    PORT: String(port),
    PIPEDRIVE_SANDBOX: 'false',
    PIPEDRIVE_CLIENT_ID: TEST_CLIENT.clientId,
    PIPEDRIVE_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    PIPEDRIVE_REDIRECT_URI: redirectUri,
    PIPEDRIVE_OAUTH_URL: emulator.url,
    PIPEDRIVE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    DATABASE_URL: options.databaseUrl,
    ...options.env,
  };
  return boot(env, emulator, ownEmulator, options.clock);
}

async function boot(env: Env, emulator: PipedriveEmulator, ownEmulator: boolean, clock?: PipedriveClock): Promise<ReferenceApp> {
  const create = async (): Promise<INestApplication> => {
    if (!clock) return NestFactory.create(AppModule.forRoot(env), { logger: ['error', 'warn'] });
    const module = await Test.createTestingModule({ imports: [AppModule.forRoot(env)] })
      .overrideProvider(PipedriveClock)
      .useValue(clock)
      .setLogger(new ConsoleLogger({ logLevels: ['error', 'warn'] }))
      .compile();
    return module.createNestApplication();
  };
  const listen = async () => {
    const app = configureApp(await create());
    await app.listen(Number(env.PORT), '127.0.0.1');
    return app;
  };
  const app = await listen();
  const handle: ReferenceApp = {
    url: `http://127.0.0.1:${env.PORT}`,
    emulator,
    app,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    restart: async () => {
      await handle.app.close();
      handle.app = await listen();
      handle.dataSource = handle.app.get<DataSource>(getDataSourceToken());
      return handle;
    },
    close: async () => {
      await handle.app.close();
      if (ownEmulator) await emulator.close();
    },
  };
  return handle;
}
