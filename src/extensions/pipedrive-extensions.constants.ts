import { Inject } from '@nestjs/common';

/** Who may frame an extension page: Pipedrive's web app, on every company's subdomain. */
export const PIPEDRIVE_FRAME_ANCESTOR = 'https://*.pipedrive.com';

/** Injection token of the validated extension options ({@link ResolvedPipedriveExtensionsOptions}). */
export const PIPEDRIVE_EXTENSIONS_OPTIONS = Symbol('PIPEDRIVE_EXTENSIONS_OPTIONS');
/** Injects {@link PIPEDRIVE_EXTENSIONS_OPTIONS}. */
export const InjectPipedriveExtensionsOptions = (): ParameterDecorator => Inject(PIPEDRIVE_EXTENSIONS_OPTIONS);

/** Route metadata set by `@PipedriveExtensionPage()`: the route may be framed by Pipedrive. */
export const PIPEDRIVE_EXTENSION_PAGE = Symbol('PIPEDRIVE_EXTENSION_PAGE');

/** Where {@link PipedriveExtensionGuard} leaves the verified context for `@PipedriveExtension()`. */
export const PIPEDRIVE_EXTENSION_CONTEXT = Symbol('PIPEDRIVE_EXTENSION_CONTEXT');
