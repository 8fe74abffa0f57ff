import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PIPEDRIVE_MIGRATIONS, PipedriveAuthModule } from 'nestjs-pipedrive';
import { DealsModule } from './deals/deals.module.js';

/** What differs between production, a test against the emulator, and a developer's machine. */
export interface AppSettings {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The emulator's URL in tests; Pipedrive's when unset. */
  oauthBaseUrl?: string;
  encryptionKey: string;
  sessionSecret: string;
}

@Module({})
export class AppModule {
  static register(settings: AppSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: settings.databaseUrl,
          autoLoadEntities: true,
          migrations: [...PIPEDRIVE_MIGRATIONS],
          migrationsRun: true,
        }),
        PipedriveAuthModule.forRoot({
          isGlobal: true,
          clientId: settings.clientId,
          clientSecret: settings.clientSecret,
          redirectUri: settings.redirectUri,
          oauthBaseUrl: settings.oauthBaseUrl,
          encryptionKey: settings.encryptionKey,
          sessionSecret: settings.sessionSecret,
        }),
        DealsModule,
      ],
    };
  }
}
