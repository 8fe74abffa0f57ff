import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { PIPEDRIVE_EXTENSIONS_OPTIONS } from './pipedrive-extensions.constants.js';
import { ConfigurablePipedriveExtensionsModule, PIPEDRIVE_EXTENSIONS_MODULE_OPTIONS } from './pipedrive-extensions.module-definition.js';
import { type PipedriveExtensionsModuleOptions, resolveExtensionsOptions } from './pipedrive-extensions.options.js';
import { PipedriveFramingMiddleware } from './pipedrive-extension-framing.js';
import { PipedriveExtensionGuard } from './pipedrive-extension.guard.js';
import { PipedriveExtensionTokenVerifier } from './pipedrive-extension-token.js';

/**
 * Pipedrive app extensions (custom UI pages, JSON panels, the iframe's API calls):
 * `PipedriveExtensionsModule.forRoot({ jwtSecret?, frameAncestors? })` or `forRootAsync(...)`.
 * Needs PipedriveAuthModule registered with `isGlobal: true` (it uses its client secret, token store,
 * client and clock). Makes every route unframeable except those marked `@PipedriveExtensionPage()`.
 */
@Module({
  providers: [
    {
      provide: PIPEDRIVE_EXTENSIONS_OPTIONS,
      inject: [PIPEDRIVE_EXTENSIONS_MODULE_OPTIONS],
      useFactory: (options: PipedriveExtensionsModuleOptions) => resolveExtensionsOptions(options),
    },
    PipedriveExtensionTokenVerifier,
    PipedriveExtensionGuard,
    PipedriveFramingMiddleware,
  ],
  exports: [PIPEDRIVE_EXTENSIONS_OPTIONS, PipedriveExtensionTokenVerifier, PipedriveExtensionGuard],
})
export class PipedriveExtensionsModule extends ConfigurablePipedriveExtensionsModule implements NestModule {
  /** Applies the framing policy to every route: extension pages may be framed by Pipedrive, others by no one. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(PipedriveFramingMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
  }
}
