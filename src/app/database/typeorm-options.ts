import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { PIPEDRIVE_MIGRATIONS } from '../../index.js';
import type { DatabaseConfig } from '../config/app-config.js';

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
  return { ...common, type: 'sqlite', database: database.path, enableWAL: true, busyTimeout: 5_000 };
}
