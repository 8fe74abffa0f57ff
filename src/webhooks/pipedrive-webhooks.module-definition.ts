import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PipedriveWebhooksModuleOptions } from './pipedrive-webhooks.options.js';

/** Extras of `PipedriveWebhooksModule.forRoot/forRootAsync` beside the options. */
export interface PipedriveWebhooksModuleExtras {
  /** Register the module globally. @default false */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurablePipedriveWebhooksModule,
  MODULE_OPTIONS_TOKEN: PIPEDRIVE_WEBHOOKS_MODULE_OPTIONS,
  OPTIONS_TYPE: PIPEDRIVE_WEBHOOKS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PIPEDRIVE_WEBHOOKS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PipedriveWebhooksModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<PipedriveWebhooksModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
