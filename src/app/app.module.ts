import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PipedriveAuthModule, PipedriveExtensionsModule, PipedriveWebhooksModule } from '../index.js';
import type { Registry } from 'prom-client';
import type { PipedriveEmulator } from '../testing/index.js';
import { type AppConfig, type Env, WEBHOOK_RECEIVER_PATH, loadAppConfig } from './config/app-config.js';
import { typeOrmOptions } from './database/typeorm-options.js';
import { ExtensionsModule } from './extensions/extensions.module.js';
import { HealthController } from './health/health.controller.js';
import { METRICS_REGISTRY, MetricsModule } from './metrics/metrics.module.js';
import { PipedriveAccountModule } from './pipedrive/pipedrive-account.module.js';
import { SANDBOX_EMULATOR, SandboxModule } from './sandbox/sandbox.module.js';
import { WebhookEventsModule } from './webhooks/webhook-events.module.js';
import { WebModule } from './web/web.module.js';

@Module({})
export class AppModule {
  /** `env` is process.env in production; tests pass their own. */
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => loadAppConfig(env)] }),
        SandboxModule,
        MetricsModule,
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>) => typeOrmOptions(config.get('database', { infer: true })),
        }),
        PipedriveAuthModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService, SANDBOX_EMULATOR, METRICS_REGISTRY],
          useFactory: (config: ConfigService<AppConfig, true>, emulator: PipedriveEmulator | null, registry: Registry | null) => {
            const pipedrive = config.get('pipedrive', { infer: true });
            // A browser finishing the OAuth flow lands on the page at `/`; API clients keep the JSON answer.
            const base = { ...pipedrive, oauthBaseUrl: emulator?.url ?? pipedrive.oauthBaseUrl, browserSuccessRedirect: '/' };
            return registry ? { ...base, metrics: { registry } } : base;
          },
        }),
        PipedriveWebhooksModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<AppConfig, true>) => ({
            ...config.get('webhooks', { infer: true }),
            receiverPath: WEBHOOK_RECEIVER_PATH,
          }),
        }),
        PipedriveExtensionsModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService, SANDBOX_EMULATOR],
          useFactory: (config: ConfigService<AppConfig, true>, emulator: PipedriveEmulator | null) => ({
            jwtSecret: config.get('extensions', { infer: true }).jwtSecret,
            // In the sandbox the emulator's host page stands in for Pipedrive and must be allowed to frame the panel.
            frameAncestors: emulator ? [new URL(emulator.url).origin] : [],
          }),
        }),
        PipedriveAccountModule,
        ExtensionsModule,
        WebModule,
        WebhookEventsModule,
      ],
      controllers: [HealthController],
    };
  }
}
