import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PipedriveAuthGuard } from './auth/pipedrive-auth.guard.js';
import { PipedriveConnectService } from './auth/pipedrive-connect.service.js';
import { PipedriveIdentityFetcher } from './auth/pipedrive-identity.js';
import { PipedriveStrategy } from './auth/pipedrive-passport.adapter.js';
import { PipedriveSameOriginGuard } from './auth/pipedrive-same-origin.guard.js';
import { PipedriveSession } from './auth/pipedrive-session.js';
import { PipedriveSessionGuard } from './auth/pipedrive-session.guard.js';
import { PipedriveStateStore } from './auth/pipedrive-state.store.js';
import { PipedriveUninstallGuard } from './auth/pipedrive-uninstall.guard.js';
import { PipedriveClient } from './client/pipedrive.client.js';
import { ConnectionStore } from './database/connection.store.js';
import { PipedriveMetrics } from './metrics/pipedrive-metrics.js';
import { ConfigurablePipedriveAuthModule, PIPEDRIVE_MODULE_OPTIONS } from './pipedrive-auth.module-definition.js';
import { type PipedriveAuthModuleOptions, resolvePipedriveOptions } from './pipedrive-auth.options.js';
import { PipedriveClock, systemClock } from './pipedrive.clock.js';
import { PIPEDRIVE_OPTIONS } from './pipedrive.constants.js';
import { PipedriveEvents } from './tokens/pipedrive-events.js';
import { PipedriveOAuthClient } from './tokens/pipedrive-oauth.client.js';
import { PipedriveRefreshSweeper } from './tokens/pipedrive-refresh-sweeper.js';
import { PIPEDRIVE_ENTITIES } from './database/pipedrive.entities.js';
import { TokenService } from './tokens/token.service.js';

/** What apps inject or put in `@UseGuards()`. */
const PUBLIC_PROVIDERS = [
  TokenService,
  PipedriveClient,
  PipedriveEvents,
  PipedriveMetrics,
  PipedriveRefreshSweeper,
  PipedriveSession,
  PipedriveConnectService,
  PipedriveAuthGuard,
  PipedriveSessionGuard,
  PipedriveSameOriginGuard,
  PipedriveUninstallGuard,
];

/**
 * Pipedrive OAuth and API for a Nest app:
 * `PipedriveAuthModule.forRoot({ clientId, clientSecret, redirectUri, encryptionKey, sessionSecret })`
 * or `forRootAsync({ imports, inject, useFactory })`. Needs a TypeORM DataSource (`TypeOrmModule.forRoot`)
 * with `PIPEDRIVE_MIGRATIONS` run. Options are validated when the app starts
 * (PipedriveConfigurationError names what to fix). Extras: `isGlobal` (default false) and `controller`
 * (default true: mounts PipedriveAuthController at `/auth/pipedrive`).
 */
@Module({
  imports: [TypeOrmModule.forFeature(PIPEDRIVE_ENTITIES)],
  providers: [
    {
      provide: PIPEDRIVE_OPTIONS,
      inject: [PIPEDRIVE_MODULE_OPTIONS],
      useFactory: (options: PipedriveAuthModuleOptions) => resolvePipedriveOptions(options),
    },
    { provide: PipedriveClock, useValue: systemClock },
    ConnectionStore,
    PipedriveOAuthClient,
    PipedriveStateStore,
    PipedriveStrategy,
    PipedriveIdentityFetcher,
    ...PUBLIC_PROVIDERS,
  ],
  exports: [PIPEDRIVE_OPTIONS, PipedriveClock, ...PUBLIC_PROVIDERS],
})
export class PipedriveAuthModule extends ConfigurablePipedriveAuthModule {}
