import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PipedriveExtensionsModuleOptions } from './pipedrive-extensions.options.js';

/** Extras of `PipedriveExtensionsModule.forRoot/forRootAsync` beside the options. */
export interface PipedriveExtensionsModuleExtras {
  /** Register the module globally. @default false */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurablePipedriveExtensionsModule,
  MODULE_OPTIONS_TOKEN: PIPEDRIVE_EXTENSIONS_MODULE_OPTIONS,
  OPTIONS_TYPE: PIPEDRIVE_EXTENSIONS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PIPEDRIVE_EXTENSIONS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PipedriveExtensionsModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<PipedriveExtensionsModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
