import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import sqlite3 from 'sqlite3';
import { PIPEDRIVE_MIGRATIONS } from '../../index.js';
import type { DatabaseConfig } from '../config/app-config.js';

/**
 * `sqlite3` as TypeORM's `driver` option, minus the tracing: TypeORM calls `verbose()` on the driver,
 * which wraps every statement to capture a stack trace and `util.inspect` its arguments, a quarter to a
 * third of the CPU of a token refresh on SQLite (profiled in the 90-day keep-alive test). Here `verbose()`
 * returns the plain module. Error messages stay the same; only their stack traces are shorter.
 */
export const untracedSqlite3: typeof sqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, { verbose: () => sqlite3 });

/** One DataSource for the app; the Pipedrive tables come from the library's migrations. */
export function typeOrmOptions(database: DatabaseConfig): TypeOrmModuleOptions {
  const common = {
    autoLoadEntities: true,
    migrations: PIPEDRIVE_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
  } as const;
  if (database.type === 'postgres') {
    // Without a connect timeout, requests wait forever on a database host that stopped answering.
    return { ...common, type: 'postgres', url: database.url, connectTimeoutMS: 5_000 };
  }
  mkdirSync(dirname(database.path), { recursive: true });
  // WAL and a busy timeout let several processes share one SQLite file without SQLITE_BUSY failures.
  return { ...common, type: 'sqlite', driver: untracedSqlite3, database: database.path, enableWAL: true, busyTimeout: 5_000 };
}
