import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedPipedriveOptions } from '../../src/pipedrive-auth.options.js';
import { PipedriveEmulator } from '../../src/testing/index.js';
import type { PipedriveConnection, PipedriveTokenSet } from '../../src/tokens/pipedrive-token.types.js';
import { createPostgresDatabase } from './postgres.js';
import {
  TOKEN_TEST_CLIENT,
  TOKEN_TEST_REDIRECT,
  startTokenModule,
  tokenTestOptions,
  type TokenModule,
  type TokenTestDatabase,
} from './token-module.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** One test file's world: an emulator, a fresh database (SQLite file or PostgreSQL) and one shared key. */
export interface TokenFixture {
  emu: PipedriveEmulator;
  database: TokenTestDatabase;
  /** The temp dir holding the SQLite file (also for sqlite-only extras). */
  dir: string;
  options(overrides?: Partial<ResolvedPipedriveOptions>): ResolvedPipedriveOptions;
  /** A token module (an "instance") on the shared database; closed by `close()`. */
  start(overrides?: Partial<ResolvedPipedriveOptions>, imports?: unknown[]): Promise<TokenModule>;
  /** Tokens from the emulator for a user, stored as already expired. */
  saveExpired(module: TokenModule, user: { companyId: number; userId: number }): Promise<Saved>;
  close(): Promise<void>;
}

export interface Saved {
  connection: PipedriveConnection;
  grant: PipedriveTokenSet;
}

export async function createTokenFixture(kind: DatabaseKind): Promise<TokenFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'npd-tokens-'));
  const postgres = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  const database: TokenTestDatabase = postgres
    ? { type: 'postgres', url: postgres.url }
    : { type: 'sqlite', path: join(dir, 'tokens.sqlite') };
  const emu = await PipedriveEmulator.start({ apps: [{ ...TOKEN_TEST_CLIENT, redirectUri: TOKEN_TEST_REDIRECT }] });
  const encryptionKey = tokenTestOptions().encryptionKey;
  const modules: TokenModule[] = [];
  const options = (overrides: Partial<ResolvedPipedriveOptions> = {}) =>
    tokenTestOptions({ oauthBaseUrl: emu.url, encryptionKey, ...overrides });
  return {
    emu,
    database,
    dir,
    options,
    async start(overrides, imports) {
      const module = await startTokenModule(database, options(overrides), imports);
      modules.push(module);
      return module;
    },
    async saveExpired(module, user) {
      const grant = emu.grant({ clientId: TOKEN_TEST_CLIENT.clientId, ...user });
      const connection = await module.tokens.saveConnection(user, { ...grant, expiresIn: 0 });
      return { connection, grant };
    },
    async close() {
      for (const module of modules) await module.close().catch(() => undefined);
      await emu.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
