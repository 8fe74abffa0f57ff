import { ConfigurableModuleBuilder } from '@nestjs/common';
import { PipedriveAuthController } from './auth/pipedrive-auth.controller.js';
import type { PipedriveAuthModuleOptions } from './pipedrive-auth.options.js';

/** Module-level options of `forRoot`/`forRootAsync` beside the library options. */
export interface PipedriveAuthModuleExtras {
  /** Register the module globally. @default false */
  isGlobal: boolean;
  /** Mount the ready-made `/auth/pipedrive` controller; false to write your own with the guard. @default true */
  controller: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurablePipedriveAuthModule,
  MODULE_OPTIONS_TOKEN: PIPEDRIVE_MODULE_OPTIONS,
  /** Type carrier of `forRoot`'s argument: use as `typeof PIPEDRIVE_OPTIONS_TYPE`. */
  OPTIONS_TYPE: PIPEDRIVE_OPTIONS_TYPE,
  /** Type carrier of `forRootAsync`'s argument: use as `typeof PIPEDRIVE_ASYNC_OPTIONS_TYPE`. */
  ASYNC_OPTIONS_TYPE: PIPEDRIVE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PipedriveAuthModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<PipedriveAuthModuleExtras>({ isGlobal: false, controller: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.controller ? [PipedriveAuthController] : [],
  }))
  .build();

/** What `PipedriveAuthModule.forRoot()` takes: the options plus the extras. */
export type PipedriveAuthModuleRootOptions = typeof PIPEDRIVE_OPTIONS_TYPE;
/** What `PipedriveAuthModule.forRootAsync()` takes: `useFactory`/`useClass`/`useExisting`, `inject`, `imports`, plus the extras. */
export type PipedriveAuthModuleAsyncOptions = typeof PIPEDRIVE_ASYNC_OPTIONS_TYPE;
