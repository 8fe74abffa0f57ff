import { randomBytes } from 'node:crypto';
import type { INestApplication, Type } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import type { PipedriveClock } from '../../src/pipedrive.clock.js';
import { PipedriveEmulator } from '../../src/testing/index.js';
import { freePort } from './free-port.js';
import { startTestApp } from './test-app.js';

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
  const started = await startTestApp({
    options: {
      ...client,
      redirectUri,
      oauthBaseUrl: emulator.url,
      encryptionKey: randomBytes(32).toString('base64'),
      sessionSecret: randomBytes(32).toString('hex'),
      controller: setup.controller ?? true,
      ...setup.options,
    },
    http: { port },
    clock: setup.clock,
    controllers: setup.controllers,
    providers: setup.providers,
    logLevels: ['error', 'warn'],
  });
  return {
    url: started.url,
    client,
    emulator,
    app: started.app,
    dataSource: started.dataSource,
    close: async () => {
      await started.close();
      if (!setup.emulator) await emulator.close();
    },
  };
}
