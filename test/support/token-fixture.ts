import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicModule, LogLevel } from '@nestjs/common';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import type { PipedriveClock } from '../../src/pipedrive.clock.js';
import { ManualClock, PipedriveEmulator } from '../../src/testing/index.js';
import type { PipedriveConnection, PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';
import { createPostgresDatabase } from './postgres.js';
import { startTestApp, type TestApp, type TestDatabase } from './test-app.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export const TOKEN_TEST_CLIENT = { clientId: 'tokens-client', clientSecret: 'tokens-secret-0123456789' };
export const TOKEN_TEST_REDIRECT = 'http://127.0.0.1/auth/pipedrive/callback';

export interface InstanceExtras {
  /** This instance's clock (default: the system clock). */
  clock?: PipedriveClock;
  imports?: DynamicModule[];
  logLevels?: LogLevel[];
}

/** One test file's world: an emulator, a fresh database (SQLite file or PostgreSQL) and one shared key. */
export interface TokenFixture {
  emu: PipedriveEmulator;
  database: TestDatabase;
  /** The temp dir holding the SQLite file (also for sqlite-only extras). */
  dir: string;
  /**
   * A clock for instances that need time to pass (`start({}, { clock: fx.clock })`), started at the
   * real time so rows it writes compare sensibly with rows of system-clock instances and processes.
   */
  clock: ManualClock;
  /** The options an instance passes to `PipedriveAuthModule.forRoot()`, with `overrides`. */
  options(overrides?: Partial<PipedriveAuthModuleOptions>): PipedriveAuthModuleOptions;
  /** An app instance on the shared database; closed by `close()`. */
  start(overrides?: Partial<PipedriveAuthModuleOptions>, extras?: InstanceExtras): Promise<TestApp>;
  /** Tokens from the emulator for a user, stored as already expired. */
  saveExpired(instance: TestApp, user: { companyId: number; userId: number }): Promise<Saved>;
  close(): Promise<void>;
}

export interface Saved {
  connection: PipedriveConnection;
  grant: PipedriveTokenSet;
}

/** What every token-test instance passes to forRoot; the module fills in the rest. */
export function tokenTestOptions(overrides: Partial<PipedriveAuthModuleOptions> = {}): PipedriveAuthModuleOptions {
  return {
    ...TOKEN_TEST_CLIENT,
    redirectUri: TOKEN_TEST_REDIRECT,
    encryptionKey: randomBytes(32).toString('base64'),
    sessionSecret: randomBytes(32).toString('hex'),
    ...overrides,
  };
}

export async function createTokenFixture(kind: DatabaseKind): Promise<TokenFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'npd-tokens-'));
  const postgres = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  const database: TestDatabase = postgres ? { type: 'postgres', url: postgres.url } : { type: 'sqlite', path: join(dir, 'tokens.sqlite') };
  const clock = new ManualClock(Date.now());
  // On the system clock: its latencies are real slowness that widens races between instances and processes.
  const emu = await PipedriveEmulator.start({ apps: [{ ...TOKEN_TEST_CLIENT, redirectUri: TOKEN_TEST_REDIRECT }] });
  const shared = tokenTestOptions({ oauthBaseUrl: emu.url });
  const instances: TestApp[] = [];
  const options = (overrides: Partial<PipedriveAuthModuleOptions> = {}) => ({ ...shared, ...overrides });
  return {
    emu,
    database,
    dir,
    clock,
    options,
    async start(overrides, extras = {}) {
      const instance = await startTestApp({ options: options(overrides), database, ...extras });
      instances.push(instance);
      return instance;
    },
    async saveExpired(instance, user) {
      const grant = emu.grant({ clientId: TOKEN_TEST_CLIENT.clientId, ...user });
      const connection = await instance.tokens.saveConnection(user, { ...grant, expiresIn: 0 });
      return { connection, grant };
    },
    async close() {
      for (const instance of instances) await instance.close().catch(() => undefined);
      await emu.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
