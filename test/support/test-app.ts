import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLogger, type DynamicModule, type INestApplication, type LogLevel, Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { PipedriveClient } from '../../src/client/pipedrive.client.js';
import { PIPEDRIVE_MIGRATIONS } from '../../src/database/pipedrive.entities.js';
import { PipedriveAuthModule } from '../../src/pipedrive-auth.module.js';
import type { PipedriveAuthModuleOptions, ResolvedPipedriveOptions } from '../../src/pipedrive-auth.options.js';
import { PipedriveClock } from '../../src/pipedrive.clock.js';
import { PIPEDRIVE_OPTIONS } from '../../src/pipedrive.constants.js';
import { PipedriveEvents } from '../../src/tokens/pipedrive-events.js';
import { PipedriveRefreshSweeper } from '../../src/tokens/pipedrive-refresh-sweeper.js';
import { TokenService } from '../../src/tokens/token.service.js';
import { untracedSqlite3 } from '../../src/app/database/typeorm-options.js';
import { freePort } from './free-port.js';

/**
 * The one way tests build an app around the library: a TypeORM DataSource that runs
 * PIPEDRIVE_MIGRATIONS and `PipedriveAuthModule.forRoot()` (or `forRootAsync()`) with the options an
 * app would pass, resolved by the module itself. A test may replace the clock
 * (`.overrideProvider(PipedriveClock)`, as the clock's docs tell apps) and may listen on HTTP.
 * No exception filter is installed: the module's routes and guards must answer on their own.
 */

/** `{ type: 'sqlite', path }` (a file; shared by processes) or `{ type: 'postgres', url }`. */
export type TestDatabase =
  | { type: 'sqlite'; path: string; /** Rollback journal and no busy timeout: the SQLITE_BUSY-prone setup. */ plain?: boolean }
  | { type: 'postgres'; url: string };

export interface TestAppSetup {
  /** What the app passes to `forRoot()`; `controller` defaults to false unless `http` is set. */
  options: PipedriveAuthModuleOptions & { controller?: boolean };
  /** A fresh SQLite file in a temp dir unless given (then the caller owns it). */
  database?: TestDatabase;
  /** Replaces the module's clock, e.g. a `ManualClock`. */
  clock?: PipedriveClock;
  /** Register through `forRootAsync({ useFactory })` instead of `forRoot()`. */
  async?: boolean;
  /** Listen on a free port, or on `port` (when the redirect URI had to name it first). */
  http?: boolean | { port: number };
  controllers?: Type[];
  /** Extra providers of the app (e.g. services its `controllers` use). */
  providers?: Type[];
  imports?: DynamicModule[];
  /** Nest log levels; default errors only (`['error', 'warn']` to see warnings). */
  logLevels?: LogLevel[];
  /** Called on every statement that failed with SQLITE_BUSY / SQLITE_LOCKED (the library retries it). */
  onBusy?: () => void;
  /** Also sees every SQL statement (benchmarks count them). */
  sqlLogger?: TypeOrmLogger;
}

export interface TestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` when listening. */
  url: string;
  /** The options as the module resolved them (defaults filled in). */
  options: ResolvedPipedriveOptions;
  tokens: TokenService;
  client: PipedriveClient;
  events: PipedriveEvents;
  /** Inert unless `refreshSweep` is set; `sweep()` runs a pass either way. */
  sweeper: PipedriveRefreshSweeper;
  dataSource: DataSource;
  /** SQL statements this app has sent so far (each retry counts again). */
  queries(): number;
  /** Statements that failed with SQLITE_BUSY / SQLITE_LOCKED so far. */
  busyFailures(): number;
  close(): Promise<void>;
}

export async function startTestApp(setup: TestAppSetup): Promise<TestApp> {
  const dir = setup.database ? undefined : mkdtempSync(join(tmpdir(), 'npd-app-'));
  const database = setup.database ?? { type: 'sqlite' as const, path: join(dir!, 'pipedrive.sqlite') };
  const counts = { queries: 0, busy: 0 };
  const { controller = Boolean(setup.http), ...options } = setup.options;
  const pipedrive = setup.async
    ? PipedriveAuthModule.forRootAsync({ controller, isGlobal: true, useFactory: () => options })
    : PipedriveAuthModule.forRoot({ ...options, controller, isGlobal: true });
  @Module({ imports: [TypeOrmModule.forRoot(dataSourceOptions(database, countingLogger(counts, setup))), pipedrive] })
  class PipedriveTestModule {}
  let builder = Test.createTestingModule({
    imports: [PipedriveTestModule, ...(setup.imports ?? [])],
    controllers: setup.controllers ?? [],
    providers: setup.providers ?? [],
  });
  if (setup.clock) builder = builder.overrideProvider(PipedriveClock).useValue(setup.clock);
  const compiled = await builder.setLogger(new ConsoleLogger({ logLevels: setup.logLevels ?? ['error'] })).compile();
  const app = compiled.createNestApplication({ abortOnError: false });
  const port = typeof setup.http === 'object' ? setup.http.port : setup.http ? await freePort() : undefined;
  if (port === undefined) await app.init();
  else await app.listen(port, '127.0.0.1');
  return {
    app,
    url: port === undefined ? '' : `http://127.0.0.1:${port}`,
    options: app.get<ResolvedPipedriveOptions>(PIPEDRIVE_OPTIONS),
    tokens: app.get(TokenService),
    client: app.get(PipedriveClient),
    events: app.get(PipedriveEvents),
    sweeper: app.get(PipedriveRefreshSweeper),
    dataSource: app.get<DataSource>(getDataSourceToken()),
    queries: () => counts.queries,
    busyFailures: () => counts.busy,
    close: async () => {
      await app.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The DataSource an app on this database would configure; WAL and a busy timeout unless `plain`. */
function dataSourceOptions(database: TestDatabase, logger: TypeOrmLogger) {
  const common = { autoLoadEntities: true, migrations: PIPEDRIVE_MIGRATIONS, migrationsRun: true, logger } as const;
  if (database.type === 'postgres') return { ...common, type: 'postgres' as const, url: database.url };
  const sqlite = { ...common, type: 'sqlite' as const, driver: untracedSqlite3, database: database.path };
  return database.plain ? sqlite : { ...sqlite, enableWAL: true, busyTimeout: 5_000 };
}

/** TypeORM hands every statement and every failed one to its logger: counting them proves what the cache saves and that SQLITE_BUSY was retried. */
function countingLogger(
  counts: { queries: number; busy: number },
  { onBusy, sqlLogger }: Pick<TestAppSetup, 'onBusy' | 'sqlLogger'>,
): TypeOrmLogger {
  return {
    logQuery: (query, parameters, runner) => {
      counts.queries++;
      sqlLogger?.logQuery(query, parameters, runner);
    },
    logQueryError: (error) => {
      if (!/SQLITE_(BUSY|LOCKED)/.test(String((error as Error)?.message ?? error))) return;
      counts.busy++;
      onBusy?.();
    },
    logQuerySlow() {},
    logSchemaBuild() {},
    logMigration() {},
    log() {},
  };
}
