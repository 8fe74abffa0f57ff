import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import { PipedriveWebhookEventEntity } from '../database/pipedrive-webhook-event.entity.js';
import { PipedriveWebhookEntity } from '../database/pipedrive-webhook.entity.js';
import { WebhookInboxStore } from '../database/webhook-inbox.store.js';
import { WebhookStore } from '../database/webhook.store.js';
import { PipedriveWebhookDispatcher } from './pipedrive-webhook.dispatcher.js';
import { PipedriveWebhookReceiver } from './pipedrive-webhook.receiver.js';
import { PipedriveWebhookRegistrar } from './pipedrive-webhook.registrar.js';
import { PIPEDRIVE_WEBHOOKS_OPTIONS } from './pipedrive-webhooks.constants.js';
import { ConfigurablePipedriveWebhooksModule, PIPEDRIVE_WEBHOOKS_MODULE_OPTIONS } from './pipedrive-webhooks.module-definition.js';
import { type PipedriveWebhooksModuleOptions, resolveWebhooksOptions } from './pipedrive-webhooks.options.js';
import { PipedriveWebhooksService } from './pipedrive-webhooks.service.js';
import { WebhookHandlerRegistry } from './webhook-handler.registry.js';

/**
 * Pipedrive webhooks v2 for the connections of `PipedriveAuthModule` (register that one with
 * `isGlobal: true`, or pass it in `forRootAsync({ imports })`):
 * `PipedriveWebhooksModule.forRoot({ events: ['*.deal'], subscriptionUrl: 'https://app.example.com/webhooks/pipedrive' })`.
 * Registers one webhook per event on connect, mounts the receiver at `receiverPath`, stores deliveries
 * in the inbox (tables from `PIPEDRIVE_MIGRATIONS`) and calls the `@OnPipedriveWebhook()` handlers.
 */
@Module({
  imports: [DiscoveryModule, TypeOrmModule.forFeature([PipedriveConnectionEntity, PipedriveWebhookEntity, PipedriveWebhookEventEntity])],
  providers: [
    {
      provide: PIPEDRIVE_WEBHOOKS_OPTIONS,
      inject: [PIPEDRIVE_WEBHOOKS_MODULE_OPTIONS],
      useFactory: (options: PipedriveWebhooksModuleOptions) => resolveWebhooksOptions(options),
    },
    WebhookStore,
    WebhookInboxStore,
    WebhookHandlerRegistry,
    PipedriveWebhookRegistrar,
    PipedriveWebhookDispatcher,
    PipedriveWebhookReceiver,
    PipedriveWebhooksService,
  ],
  exports: [PIPEDRIVE_WEBHOOKS_OPTIONS, PipedriveWebhooksService, PipedriveWebhookReceiver],
})
export class PipedriveWebhooksModule extends ConfigurablePipedriveWebhooksModule {}
